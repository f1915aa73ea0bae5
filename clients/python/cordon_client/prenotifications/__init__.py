"""Vaccine pre-notifications on top of `Cordon` (docs/workflows.md): send, move through the
signed workflow, record discrepancies and turn one into a seizure case."""

from cordon_client.prenotifications.operations import (
    discrepancy_to_case,
    post_targeted,
    prenotification,
    prenotifications,
    send_prenotification,
    transition,
)

__all__ = [
    "discrepancy_to_case",
    "post_targeted",
    "prenotification",
    "prenotifications",
    "send_prenotification",
    "transition",
]
