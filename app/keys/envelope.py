"""The server's view of an envelope: `cordon_client.wire` (the one v2 parser), adapted.

The server routes on the signed header and checks the sender device's signature over the
whole envelope, so a structurally invalid, truncated or forged envelope is refused with a 4xx
before anything is stored (docs/PROTOCOL.md §5.5). It never sees keys or content.
"""

import uuid
from dataclasses import dataclass

from cordon_client import wire

from app.keys.protocol import FormatError, verify_signature

TARGETED, BROADCAST = wire.TARGETED, wire.BROADCAST


@dataclass(frozen=True)
class EnvelopeHeader:
    """A parsed envelope as the server checks it: the header's fields and the signature."""

    envelope: wire.Envelope

    @property
    def header(self) -> wire.Header:
        """The signed header, labels included."""
        return self.envelope.header

    @property
    def kind(self) -> int:
        return self.header.kind

    @property
    def content_type(self) -> int:
        return self.header.content_type

    @property
    def content_name(self) -> str:
        return self.header.content_name

    @property
    def group_id(self) -> uuid.UUID:
        return self.header.group_id

    @property
    def epoch_id(self) -> bytes:
        return self.header.epoch_id

    @property
    def sender_device_id(self) -> uuid.UUID:
        return self.header.sender_device_id

    @property
    def message_id(self) -> uuid.UUID:
        return self.header.message_id

    @property
    def ts(self) -> int:
        return self.header.ts

    @property
    def recipients(self) -> tuple[uuid.UUID, ...]:
        return self.header.recipients

    @property
    def labels(self) -> wire.Labels:
        return self.header.labels

    @property
    def signature(self) -> bytes:
        return self.envelope.signature

    @property
    def signed_input(self) -> bytes:
        return self.envelope.signing_input()


def parse_envelope(data: bytes) -> EnvelopeHeader:
    """Check the whole layout without keys; raise FormatError naming what is wrong."""
    try:
        return EnvelopeHeader(wire.parse_envelope(data))
    except wire.WireFormatError as exc:
        raise FormatError(str(exc)) from None


def verify_sender(header: EnvelopeHeader, *, device_signing_key: bytes) -> None:
    """The sending device signed this envelope; a forgery is refused before storage."""
    verify_signature(device_signing_key, header.signature, header.signed_input, "envelope")
