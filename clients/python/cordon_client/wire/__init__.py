"""Cordon's wire formats, protocol version 2: the one implementation server and SDK share.

Pure (standard library and `cryptography` only, no I/O): labels and the canonical encoding
(PROTOCOL.md §2), canonical JSON, the envelope layout with its signed labels, the wrap layout
and padding (§5). The server imports this package to check what it stores; the SDK seals and
opens with it; so both read the same bytes the same way. Every refusal is a `WireFormatError`
whose message names the field that is wrong.
"""

from cordon_client.wire.canonical import *  # noqa: F403
from cordon_client.wire.encoding import *  # noqa: F403
from cordon_client.wire.envelope import *  # noqa: F403
from cordon_client.wire.labels import *  # noqa: F403
