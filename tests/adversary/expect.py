"""Assertions for attack tests: the refusal is exact, and only the forged item is refused."""

import re
import uuid
from collections.abc import Iterable

from cordon_client._client import Incoming


def exactly(message: str) -> str:
    """A `pytest.raises(match=...)` pattern accepting `message` and nothing else."""
    return f"^{re.escape(message)}$"


def outcomes(
    items: Iterable[Incoming], kinds: tuple[str, ...] = ("alert", "chat")
) -> dict[int, tuple[bool, str | None, str | None]]:
    """`{seq: (verified, text, error)}` of received content items, for one-line comparisons."""
    return {i.seq: (i.verified, i.text, i.error) for i in items if i.kind in kinds}


def device_ids(items: Iterable[Incoming]) -> set[uuid.UUID]:
    """The sender devices named by the server on the given items."""
    return {i.sender_device_id for i in items if i.sender_device_id is not None}
