"""How `cordon` shows things: readable at 80 columns and in a wide terminal, plain without
colour under ``NO_COLOR``, and as JSON (`--json`) for scripts.

Stream items are shown as a head line (seq, time, group, kind, sender) and their text wrapped
to the terminal, at most `BODY_LINES` lines; `--json` gives everything, untruncated. Senders
are named from the group's verified roster (`GroupMember.label`); ids are shown as the short
prefix that can be typed back (`groups.shortid`).
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from cordon_client.groups.directory import GroupMember
from cordon_client.messaging.incoming import Incoming

BODY_LINES = 6  # lines of an item's text shown before "…"; --json has it all
WIDE = 120  # wrap text at most this wide, even in a wider terminal (reading comfort)

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts (full ids, stable field names).")
]


def console() -> Console:
    """Output for humans: colour unless ``NO_COLOR`` is set (then no escape codes at all)."""
    plain = os.environ.get("NO_COLOR", "") != ""
    return Console(highlight=False, soft_wrap=True, color_system=None if plain else "auto")


def width() -> int:
    """The terminal's width (``COLUMNS`` when not a terminal, else 80)."""
    return max(40, console().width)


def print_json(value: Any) -> None:
    """One JSON document on stdout (ids, dates and bytes as strings)."""
    sys.stdout.write(json.dumps(value, default=_jsonable, ensure_ascii=False, indent=1) + "\n")


def print_json_line(value: Any) -> None:
    """One JSON object on one line (a live stream: one line per item)."""
    sys.stdout.write(json.dumps(value, default=_jsonable, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON: {type(value).__name__}")


def fit(text: str, size: int) -> str:
    """`text` cut to `size` characters with an ellipsis."""
    return text if len(text) <= size else text[: max(0, size - 1)] + "…"


# -- stream items ----------------------------------------------------------------------------

Names = Mapping[uuid.UUID, GroupMember]


def sender(item: Incoming, names: Names) -> str:
    """Who sent the item, as a person reads it."""
    if item.own:
        return "you"
    if item.sender_user_id is None:
        return "server"
    member = names.get(item.sender_user_id)
    label = member.label if member is not None else str(item.sender_user_id)
    return label if item.verified or item.event is not None else f"claimed {label}"


def _who(user: object, names: Names) -> str:
    try:
        member = names.get(uuid.UUID(str(user)))
    except ValueError:
        return str(user)
    return member.label if member is not None else str(user)


def event_text(item: Incoming, names: Names) -> str:
    """A server event in words (membership, receipts, library, pre-notification status)."""
    event = item.event or {}
    if item.kind == "membership":
        subject = _who(event.get("subject_id"), names)
        role = str(event.get("role") or "").replace("_", "-")
        words = {
            "group_created": "the group was created",
            "member_added": f"{subject} joined as {role}",
            "member_removed": f"{subject} left the group",
            "role_changed": f"{subject} is now {role}",
            "status_changed": f"the group is now {event.get('status')}",
        }
        return words.get(str(event.get("kind")), f"membership change: {event.get('kind')}")
    if item.kind == "receipt":
        who = _who(event.get("user_id"), names)
        return f"{who}: {event.get('status')} your item #{event.get('seq')}"
    if item.kind == "library":
        return (
            f"document {str(event.get('document_id', ''))[:8]} version {event.get('version')} "
            f"published ({event.get('category')})"
        )
    if item.kind == "prenotification_event":
        return (
            f"pre-notification {str(event.get('prenotification_id', ''))[:8]}: "
            f"{event.get('from')} → {event.get('to')}"
        )
    return json.dumps(event, separators=(",", ":"))


def _time(item: Incoming) -> str:
    when = item.sent_at or item.created_at
    return when.astimezone().strftime("%H:%M:%S") if when else "--:--:--"


def item_lines(item: Incoming, *, group: str, names: Names, size: int) -> list[str]:
    """The item as markup lines, none wider than `size` characters once rendered."""
    kind = item.kind.replace("_", " ")
    urgent = " [bold red]URGENT[/bold red]" if item.urgent else ""
    urgent_len = len(" URGENT") if item.urgent else 0
    who = "" if item.event is not None else sender(item, names)  # events say who in words
    head = f"#{item.seq} {_time(item)} {fit(group, 30)} {kind}"
    lines: list[str] = []
    if not who:
        lines.append(f"{escape(fit(head, size - urgent_len))}{urgent}")
    elif len(head) + urgent_len + 2 + len(who) <= size:
        lines.append(f"{escape(head)}{urgent}  [bold]{escape(who)}[/bold]")
    else:  # the sender on lines of their own, whole: a name is never cut
        lines.append(f"{escape(fit(head, size - urgent_len))}{urgent}")
        for part in textwrap.wrap(f"from {who}", size - 2, break_long_words=True):
            lines.append(f"  [bold]{escape(part)}[/bold]")
    if item.event is not None:
        body, style = event_text(item, names), "dim"
    elif item.own and item.content is None:
        body, style = "(sent from this device; its text is not kept here)", "dim"
    elif item.error is not None:
        body, style = f"NOT VERIFIED: {item.error}", "red"
    else:
        body, style = item.text or "", ""
    wrap = min(size, WIDE) - 2
    wrapped = [
        part
        for paragraph in body.splitlines() or [""]
        for part in textwrap.wrap(paragraph, wrap, break_long_words=True) or [""]
    ]
    if len(wrapped) > BODY_LINES:
        more = len(wrapped) - BODY_LINES + 1
        wrapped = [*wrapped[: BODY_LINES - 1], f"… {more} more lines (--json shows all)"]
    for part in wrapped:
        text = escape(part)
        lines.append(f"  [{style}]{text}[/{style}]" if style else f"  {text}")
    return lines


def item_json(item: Incoming, *, group: str, names: Names) -> dict[str, Any]:
    """The item for scripts: full ids, the text whole, the sender named as shown."""
    member = names.get(item.sender_user_id) if item.sender_user_id else None
    return {
        "group_id": item.group_id,
        "group": group,
        "seq": item.seq,
        "kind": item.kind,
        "urgent": item.urgent,
        "parent_seq": item.parent_seq,
        "sender_user_id": item.sender_user_id,
        "sender_device_id": item.sender_device_id,
        "sender": sender(item, names),
        "sender_username": member.username if member else None,
        "own": item.own,
        "verified": item.verified,
        "error": item.error,
        "sent_at": item.sent_at,
        "server_at": item.created_at,
        "text": item.text if item.event is None else None,
        "event": item.event,
        "event_text": event_text(item, names) if item.event is not None else None,
    }
