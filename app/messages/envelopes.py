"""What a posted envelope must agree with before it is stored.

The routing copy in the JSON body (`kind`, `recipients`, `urgent`, `parent_seq`) is what the
server routes on; the envelope's signed header is what receivers verify. Both must say the same
thing, and the header must be signed by the posting device, so the server never stores an item
that misroutes or whose labels a client would refuse (docs/PROTOCOL.md §5.5). The comparison
itself is `cordon_client.wire.routing_mismatch`, the function receivers run too.
"""

import uuid

from cordon_client import wire

from app.devices.models import Device
from app.keys import envelope as server_envelope
from app.keys.protocol import FormatError
from app.messages.exceptions import InvalidEnvelope, KindNotPostable, RoutingMismatch
from app.messages.models import MessageKind
from app.messages.schemas import MessageCreate

# Which content types each client kind may carry, and whether it may go to the whole group.
_CONTENT = {
    MessageKind.ALERT: ({wire.ContentType.ALERT}, True),
    MessageKind.CHAT: ({wire.ContentType.MESSAGE}, True),
    MessageKind.SENDER_KEY: ({wire.ContentType.SENDER_KEY, wire.ContentType.KEY_REQUEST}, False),
    MessageKind.LIBRARY: (
        {
            wire.ContentType.DOCUMENT_KEY,
            wire.ContentType.LIBRARY_GRANT,
            wire.ContentType.HISTORY_GRANT,
        },
        False,
    ),
    MessageKind.HISTORY_TRANSFER: ({wire.ContentType.HISTORY_TRANSFER}, False),
}
ROUTED_KINDS = frozenset({MessageKind.PRENOTIFICATION, MessageKind.PRENOTIFICATION_EVENT})


def check(message_in: MessageCreate, *, group_id: uuid.UUID, device: Device) -> wire.Header:
    """Refuse a post whose envelope is malformed, forged or disagrees with its routing copy
    (the parent's identity is checked under the stream lock: `check_parent`)."""
    if message_in.kind in ROUTED_KINDS:
        raise KindNotPostable(
            f"{message_in.kind.value} items go through /groups/{{id}}/prenotifications."
        )
    try:
        parsed = server_envelope.parse_envelope(message_in.envelope)
        server_envelope.verify_sender(parsed, device_signing_key=device.signing_key)
    except FormatError as exc:
        raise InvalidEnvelope(str(exc)) from None
    header = parsed.header
    content_types, broadcast_ok = _CONTENT[message_in.kind]
    if header.group_id != group_id or header.sender_device_id != device.id:
        raise InvalidEnvelope("envelope: sealed for another group or by another device")
    if str(header.message_id) != message_in.client_msg_id:
        raise InvalidEnvelope("client_msg_id must be the envelope's message id")
    if header.content_type not in content_types:
        raise RoutingMismatch(
            f"kind: {message_in.kind.value!r} but the envelope is signed as {header.content_name}"
        )
    listed = set(message_in.recipients or ())
    if header.recipients and listed != set(header.recipients):
        raise InvalidEnvelope("recipients must be exactly the envelope's recipient devices")
    if not header.recipients and (listed or not broadcast_ok):
        raise InvalidEnvelope(f"a {message_in.kind} envelope must name its recipients")
    check_routing(message_in, header, parent=header.labels.target)
    return header


def check_routing(
    message_in: MessageCreate, header: wire.Header, *, parent: wire.MessageRef | None
) -> None:
    """Raise RoutingMismatch where the posted copy disagrees with the signed labels."""
    problem = wire.routing_mismatch(
        header,
        kind=message_in.kind.value,
        urgent=message_in.urgent,
        parent=parent,
        has_parent=message_in.parent_seq is not None,
    )
    if problem is not None:
        raise RoutingMismatch(problem)


def target_of(message_in: MessageCreate) -> wire.MessageRef | None:
    """The signed reply or review target of an already checked post."""
    return wire.parse_header(message_in.envelope).labels.target


def check_parent(
    message_in: MessageCreate, *, sender_device_id: uuid.UUID | None, client_msg_id: str | None
) -> RoutingMismatch | None:
    """The item stored at `parent_seq` must be the envelope's signed target, or the problem."""
    target = target_of(message_in)
    if target is None:
        return None
    stored = (
        wire.MessageRef(sender_device_id, uuid.UUID(client_msg_id))
        if sender_device_id is not None and client_msg_id is not None and _is_uuid(client_msg_id)
        else None
    )
    if stored != target:
        return RoutingMismatch("parent_seq: names another item than the envelope's signed target")
    return None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
