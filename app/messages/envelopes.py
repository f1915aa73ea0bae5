"""What a posted envelope must agree with before it is stored.

The routing metadata in the JSON body is what the server routes on; the envelope's header is
what receivers verify. Both must say the same thing, and the header must be signed by the
posting device, so the server never stores an item that misroutes or that a client would
reject as forged (docs/PROTOCOL.md §5.1).
"""

import uuid

from app.devices.models import Device
from app.keys import envelope as wire
from app.keys.protocol import FormatError
from app.messages.exceptions import InvalidEnvelope, KindNotPostable
from app.messages.models import MessageKind
from app.messages.schemas import MessageCreate

# Which content types each client kind may carry, and whether it may go to the whole group.
_CONTENT = {
    MessageKind.ALERT: ({2}, True),
    MessageKind.CHAT: ({1}, True),
    MessageKind.SENDER_KEY: ({4}, False),
    MessageKind.LIBRARY: ({5, 6, 9}, False),
    MessageKind.HISTORY_TRANSFER: ({7}, False),
}
ROUTED_KINDS = frozenset({MessageKind.PRENOTIFICATION, MessageKind.PRENOTIFICATION_EVENT})


def check(message_in: MessageCreate, *, group_id: uuid.UUID, device: Device) -> None:
    """Refuse a post whose envelope is malformed, forged or disagrees with its metadata."""
    if message_in.kind in ROUTED_KINDS:
        raise KindNotPostable(
            f"{message_in.kind.value} items go through /groups/{{id}}/prenotifications."
        )
    try:
        header = wire.parse_envelope(message_in.envelope)
        wire.verify_sender(header, device_signing_key=device.signing_key)
    except FormatError as exc:
        raise InvalidEnvelope(str(exc)) from None
    content_types, broadcast_ok = _CONTENT[message_in.kind]
    if header.group_id != group_id or header.sender_device_id != device.id:
        raise InvalidEnvelope("envelope: sealed for another group or by another device")
    if str(header.message_id) != message_in.client_msg_id:
        raise InvalidEnvelope("client_msg_id must be the envelope's message id")
    if header.content_type not in content_types:
        raise InvalidEnvelope(f"envelope: {header.content_name} content is not a {message_in.kind}")
    listed = set(message_in.recipients or ())
    if header.recipients and listed != set(header.recipients):
        raise InvalidEnvelope("recipients must be exactly the envelope's recipient devices")
    if not header.recipients and (listed or not broadcast_ok):
        raise InvalidEnvelope(f"a {message_in.kind} envelope must name its recipients")
