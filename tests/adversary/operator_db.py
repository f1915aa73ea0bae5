"""The operator's hands on the database: read and edit rows behind the server's back.

`OperatorDB` wraps a SQLAlchemy `AsyncSession` on the server's own database (SQLite file or
PostgreSQL, whichever the run uses). Every call is its own committed transaction and reads
fresh rows (Core statements, no ORM identity map), so the running server sees each edit at
once and the test never holds a lock the server waits for.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Executable, Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.devices.models import Device
from app.keys.models import DevicePrekey, GroupLogEntry, MemberKey
from app.library.models import Document, DocumentVersion
from app.messages.models import StreamItem
from tests.adversary.forge import flip_byte


class OperatorDB:
    """Direct edits of the server's rows, as a malicious operator with database access."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def execute(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> list[Row[Any]]:
        """Run any statement (`text(...)` or Core) and commit; the rows it returned, if any."""
        result = await self.session.execute(statement, params)
        rows = list(result.all()) if getattr(result, "returns_rows", True) else []
        await self.session.commit()
        return rows

    # -- stream items -----------------------------------------------------------------------

    async def item(self, group_id: uuid.UUID, seq: int) -> Row[Any]:
        """The stored stream item at `seq` (all columns of `stream_item`)."""
        rows = await self.execute(
            select(StreamItem.__table__).where(
                StreamItem.group_id == group_id, StreamItem.seq == seq
            )
        )
        if not rows:
            raise LookupError(f"no stream item {seq} in group {group_id}")
        return rows[0]

    async def set_item(self, group_id: uuid.UUID, seq: int, **values: Any) -> None:
        """Overwrite columns of one stream item (kind, urgent, parent_seq, envelope, …)."""
        await self.execute(
            update(StreamItem)
            .where(StreamItem.group_id == group_id, StreamItem.seq == seq)
            .values(**values)
        )

    async def edit_envelope(
        self, group_id: uuid.UUID, seq: int, fn: Callable[[bytes], bytes]
    ) -> bytes:
        """Replace an item's stored envelope by `fn(envelope)`; returns the original."""
        original = bytes((await self.item(group_id, seq)).envelope)
        await self.set_item(group_id, seq, envelope=fn(original))
        return original

    async def flip_envelope_byte(self, group_id: uuid.UUID, seq: int, offset: int = -1) -> None:
        """Invert one byte of a stored envelope (default: the last, inside the signature)."""
        await self.edit_envelope(group_id, seq, lambda e: flip_byte(e, offset))

    async def delete_item(self, group_id: uuid.UUID, seq: int) -> None:
        await self.execute(
            delete(StreamItem).where(StreamItem.group_id == group_id, StreamItem.seq == seq)
        )

    # -- the signed log -----------------------------------------------------------------------

    async def log_entries(self, group_id: uuid.UUID) -> list[dict[str, Any]]:
        """The stored log entries' JSON, in seq order."""
        rows = await self.execute(
            select(GroupLogEntry.entry_json)
            .where(GroupLogEntry.group_id == group_id)
            .order_by(GroupLogEntry.seq)
        )
        return [json.loads(r.entry_json) for r in rows]

    async def edit_log_entry(
        self, group_id: uuid.UUID, seq: int, fn: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        """Replace the stored JSON of log entry `seq` by `fn(entry)` (the stored hash and op
        columns stay: clients verify the JSON, never the server's columns)."""
        rows = await self.execute(
            select(GroupLogEntry.entry_json).where(
                GroupLogEntry.group_id == group_id, GroupLogEntry.seq == seq
            )
        )
        if not rows:
            raise LookupError(f"no log entry {seq} in group {group_id}")
        edited = fn(json.loads(rows[0].entry_json))
        await self.execute(
            update(GroupLogEntry)
            .where(GroupLogEntry.group_id == group_id, GroupLogEntry.seq == seq)
            .values(entry_json=json.dumps(edited))
        )

    async def delete_log_entry(self, group_id: uuid.UUID, seq: int) -> dict[str, Any]:
        """Delete log entry `seq`; returns the deleted row, for `insert_log_entry`."""
        rows = await self.execute(
            select(GroupLogEntry.__table__).where(
                GroupLogEntry.group_id == group_id, GroupLogEntry.seq == seq
            )
        )
        if not rows:
            raise LookupError(f"no log entry {seq} in group {group_id}")
        await self.execute(
            delete(GroupLogEntry).where(
                GroupLogEntry.group_id == group_id, GroupLogEntry.seq == seq
            )
        )
        return dict(rows[0]._mapping)

    async def insert_log_entry(self, row: Mapping[str, Any]) -> None:
        """Insert a log row as given (a deleted one put back, or one the operator made)."""
        await self.execute(insert(GroupLogEntry).values(**row))

    # -- the key directory ----------------------------------------------------------------------

    async def device(self, device_id: uuid.UUID) -> Row[Any]:
        rows = await self.execute(select(Device.__table__).where(Device.id == device_id))
        if not rows:
            raise LookupError(f"no device {device_id}")
        return rows[0]

    async def replace_device_key(
        self,
        device_id: uuid.UUID,
        *,
        signing_key: bytes | None = None,
        exchange_key: bytes | None = None,
    ) -> None:
        """Swap a device's registered public keys in the directory."""
        values = {
            k: v
            for k, v in (("signing_key", signing_key), ("exchange_key", exchange_key))
            if v is not None
        }
        await self.execute(update(Device).where(Device.id == device_id).values(**values))

    async def replace_member_key(self, user_id: uuid.UUID, public_key: bytes) -> None:
        """Swap a user's published member key (what coordinators are asked to certify)."""
        await self.execute(
            update(MemberKey).where(MemberKey.user_id == user_id).values(public_key=public_key)
        )

    async def prekeys(self, device_id: uuid.UUID) -> list[Row[Any]]:
        return await self.execute(
            select(DevicePrekey.__table__)
            .where(DevicePrekey.device_id == device_id)
            .order_by(DevicePrekey.created_ts)
        )

    async def replace_prekey(
        self, device_id: uuid.UUID, prekey_id: int, *, public_key: bytes, sig: bytes | None = None
    ) -> None:
        """Swap the public half (and optionally the signature) of one stored prekey."""
        values: dict[str, Any] = {"public_key": public_key}
        if sig is not None:
            values["sig"] = sig
        await self.execute(
            update(DevicePrekey)
            .where(DevicePrekey.device_id == device_id, DevicePrekey.prekey_id == prekey_id)
            .values(**values)
        )

    # -- the library ----------------------------------------------------------------------------

    async def library_version(self, document_id: uuid.UUID, version: int) -> Row[Any]:
        rows = await self.execute(
            select(DocumentVersion.__table__).where(
                DocumentVersion.document_id == document_id, DocumentVersion.version == version
            )
        )
        if not rows:
            raise LookupError(f"no version {version} of document {document_id}")
        return rows[0]

    async def set_library_version(
        self, document_id: uuid.UUID, version: int, **values: Any
    ) -> None:
        """Overwrite columns of a stored document version (manifest, size, blob_sha256, …)."""
        await self.execute(
            update(DocumentVersion)
            .where(DocumentVersion.document_id == document_id, DocumentVersion.version == version)
            .values(**values)
        )

    async def set_document(self, document_id: uuid.UUID, **values: Any) -> None:
        """Overwrite columns of a document row (category, latest_version, withdrawn_at)."""
        await self.execute(update(Document).where(Document.id == document_id).values(**values))
