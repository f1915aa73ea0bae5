"""What this device remembers of each group's log, inside the encrypted keystore.

The tail of the last verified log (its head and up to 31 entries before it) is how a later
process tells a rollback or a fork from an honest log (PROTOCOL.md §4.6); a detected fork is
kept with its proof and freezes the group until the user resolves it (§4.7). Invitation
secrets a coordinator issued stay here too: the server never sees them (§3.5).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from cordon_client.account.state import LocalState
from cordon_client.crypto import LogEntry, Roster
from cordon_client.crypto._encoding import b64d, b64e
from cordon_client.crypto.invite import Invitation
from cordon_client.exceptions import GroupFrozenError

TAIL = 32


def known_tail(state: LocalState, group_id: uuid.UUID) -> list[LogEntry]:
    """The verified entries ending at this device's persisted head (empty before the first)."""
    raw = state.secret(f"log-tail:{group_id}")
    return [LogEntry.from_json(e) for e in json.loads(raw)] if raw else []


def remember_head(state: LocalState, roster: Roster) -> None:
    """Persist the new head once a log verified; never move it backwards."""
    tail = known_tail(state, roster.group_id)
    if tail and tail[-1].seq > roster.head_seq:
        return
    entries = [e.to_json() for e in roster.entries[-TAIL:]]
    state.set_secret(f"log-tail:{roster.group_id}", json.dumps(entries).encode())


def forget_head(state: LocalState, group_id: uuid.UUID) -> None:
    """Drop the persisted head (only when the user resolves a fork)."""
    state.set_secret(f"log-tail:{group_id}", None)


def freeze(state: LocalState, group_id: uuid.UUID, reason: str, proof: object) -> None:
    """Record a detected fork; every later use of the group refuses until resolved."""
    record = {"reason": reason, "proof": proof}
    state.set_secret(f"log-fork:{group_id}", json.dumps(record).encode())


def fork_record(state: LocalState, group_id: uuid.UUID) -> dict[str, object] | None:
    """The recorded fork (reason and proof, or None) if the group is frozen on this device."""
    raw = state.secret(f"log-fork:{group_id}")
    return dict(json.loads(raw)) if raw else None


def check_not_frozen(state: LocalState, group_id: uuid.UUID) -> None:
    """Refuse to act on a group whose log this device saw forked."""
    record = fork_record(state, group_id)
    if record is not None:
        raise GroupFrozenError(
            f"group {group_id} is frozen on this device: {record['reason']}. Compare "
            "`cordon group head` with your coordinator, then run `cordon group resolve-fork`"
        )


def unfreeze(state: LocalState, group_id: uuid.UUID) -> None:
    """Lift the freeze after the user compared the head with the coordinator."""
    state.set_secret(f"log-fork:{group_id}", None)


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation this coordinator device issued, with who it was meant for."""

    invitation: Invitation
    created_ts: int
    for_user: str | None


def _invite_name(group_id: uuid.UUID, invitation_id: bytes) -> str:
    return f"invite:{group_id}:{b64e(invitation_id)}"


def keep_invitation(state: LocalState, issued: IssuedInvitation) -> None:
    """Keep the secret on the coordinator's device only."""
    inv = issued.invitation
    record = {
        "text": inv.to_text(),
        "created_ts": issued.created_ts,
        "for_user": issued.for_user,
    }
    state.set_secret(_invite_name(inv.group_id, inv.invitation_id), json.dumps(record).encode())


def issued_invitation(
    state: LocalState, group_id: uuid.UUID, invitation_id: str
) -> IssuedInvitation | None:
    """The invitation behind a join request's id, if this device issued it."""
    raw = state.secret(_invite_name(group_id, b64d(invitation_id, length=16)))
    if raw is None:
        return None
    record = json.loads(raw)
    return IssuedInvitation(
        Invitation.from_text(record["text"]), record["created_ts"], record["for_user"]
    )


def drop_invitation(state: LocalState, group_id: uuid.UUID, invitation_id: bytes) -> None:
    """One invitation, one member: forget the secret once used."""
    state.set_secret(_invite_name(group_id, invitation_id), None)
