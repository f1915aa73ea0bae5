"""Seizure cases on top of `Cordon` (docs/workflows.md): post, amend, reply, review, list,
CSV import and export. Content is validated against its template before encrypting."""

from cordon_client.cases.operations import amend_case, cases, post_case, reply, review_case

__all__ = ["amend_case", "cases", "post_case", "reply", "review_case"]
