"""Errors of the messages domain. Tree::

CordonError
 +-- NotFound (404)
 |    +-- MessageNotFound          messages.not_found
 +-- Conflict (409)
 |    +-- ClientMsgIdReused        messages.client_msg_id_reused
 +-- InvalidInput (422)
 |    +-- InvalidRecipients        messages.invalid_recipients
 |    +-- RecipientsRequired       messages.recipients_required
 |    +-- ParentNotFound           messages.parent_not_found
 |    +-- ReceiptNotApplicable     messages.receipt_not_applicable
 |    +-- InvalidEnvelope          messages.invalid_envelope
 |    +-- KindNotPostable          messages.kind_not_postable
 |    +-- RoutingMismatch          messages.routing_mismatch
 |    +-- InvalidReceipt           messages.invalid_receipt
 +-- TooLarge (413)
 |    +-- EnvelopeTooLarge         messages.envelope_too_large
 +-- pagination.InvalidCursor (400, core)
      +-- InvalidCursor            messages.invalid_cursor
           +-- CursorOutOfRange    messages.cursor_out_of_range
"""

from app.core import pagination as core_pagination
from app.core.errors import Conflict, InvalidInput, NotFound, TooLarge


class MessageNotFound(NotFound):
    code, title = "messages.not_found", "Message not found"


class ClientMsgIdReused(Conflict):
    code, title = "messages.client_msg_id_reused", "Client message id reused for other content"


class InvalidRecipients(InvalidInput):
    code, title = "messages.invalid_recipients", "Recipients must be live devices of members"


class RecipientsRequired(InvalidInput):
    code, title = "messages.recipients_required", "This kind is never sent to the whole group"


class ParentNotFound(InvalidInput):
    code, title = "messages.parent_not_found", "The replied-to message is not in this group"


class ReceiptNotApplicable(InvalidInput):
    code, title = "messages.receipt_not_applicable", "This item takes no receipt"


class InvalidEnvelope(InvalidInput):
    code, title = "messages.invalid_envelope", "The envelope is malformed, forged or misrouted"


class KindNotPostable(InvalidInput):
    code, title = "messages.kind_not_postable", "This kind is posted through its own route"


class RoutingMismatch(InvalidInput):
    code, title = (
        "messages.routing_mismatch",
        "The routing copy (kind, urgent, parent_seq) disagrees with the signed envelope",
    )


class InvalidReceipt(InvalidInput):
    code, title = "messages.invalid_receipt", "The receipt is not signed by the receipting device"


class EnvelopeTooLarge(TooLarge):
    code, title = "messages.envelope_too_large", "Envelope too large"


class InvalidCursor(core_pagination.InvalidCursor):
    code = "messages.invalid_cursor"


class CursorOutOfRange(InvalidCursor):
    code, title = "messages.cursor_out_of_range", "Cursor beyond the end of the stream"
