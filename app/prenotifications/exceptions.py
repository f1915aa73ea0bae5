"""Errors of the pre-notification workflow. Tree::

CordonError
 +-- NotFound (404)
 |    +-- PrenotificationNotFound     prenotification.not_found (also when not addressed)
 +-- Forbidden (403)
 |    +-- TransitionNotAllowed        prenotification.transition_not_allowed
 +-- Conflict (409)
 |    +-- InvalidTransition           prenotification.invalid_transition
 |    +-- StatusChanged               prenotification.status_changed
 |    +-- DuplicatePrenotification    prenotification.duplicate
 +-- InvalidInput (422)
      +-- InvalidEnvelope             prenotification.invalid_envelope
      +-- InvalidSignature            prenotification.invalid_signature
      +-- RecipientNotMember          prenotification.recipient_not_member
      +-- InvalidRecipients           prenotification.invalid_recipients
      +-- CoordinatorsMissing         prenotification.coordinators_missing
      +-- DetailRequired              prenotification.detail_required
      +-- RoutingMismatch             prenotification.routing_mismatch
"""

from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class PrenotificationNotFound(NotFound):
    code, title = "prenotification.not_found", "Pre-notification not found"


class TransitionNotAllowed(Forbidden):
    code, title = "prenotification.transition_not_allowed", "You may not make this transition"


class InvalidTransition(Conflict):
    code, title = "prenotification.invalid_transition", "Transition out of order"


class StatusChanged(Conflict):
    code, title = "prenotification.status_changed", "The status changed in the meantime"


class DuplicatePrenotification(Conflict):
    code, title = "prenotification.duplicate", "This pre-notification was already sent"


class InvalidEnvelope(InvalidInput):
    code, title = "prenotification.invalid_envelope", "Invalid envelope"


class InvalidSignature(InvalidInput):
    code, title = "prenotification.invalid_signature", "The event signature does not verify"


class RecipientNotMember(InvalidInput):
    code, title = "prenotification.recipient_not_member", "A recipient is not a group member"


class InvalidRecipients(InvalidInput):
    code, title = "prenotification.invalid_recipients", "Invalid recipients"


class CoordinatorsMissing(InvalidInput):
    code, title = "prenotification.coordinators_missing", "The coordinators must be addressed"


class DetailRequired(InvalidInput):
    code, title = "prenotification.detail_required", "This transition needs a detail envelope"


class RoutingMismatch(InvalidInput):
    code, title = (
        "prenotification.routing_mismatch",
        "The posted parties or parent disagree with the envelope's signed labels",
    )
