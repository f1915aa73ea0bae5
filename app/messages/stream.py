"""The messages domain as realtime's `StreamSource`: what the websocket endpoint may ask of
the database, each call in its own short session (a socket never pins a connection)."""

import uuid
from collections.abc import Mapping
from dataclasses import replace

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import realtime
from app.auth import service as auth_service
from app.core.config import Settings
from app.core.errors import CordonError
from app.devices.models import Device
from app.messages import cursor, service
from app.messages.exceptions import InvalidCursor
from app.messages.receipts import ReceiptCommitter
from app.messages.schemas import ReceiptBatch, ReceiptCreate
from app.realtime.connection import Batch
from app.users.models import User


class MessageStreamSource:
    """Implements `app.realtime.connection.StreamSource` on top of `messages.service`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        receipts: ReceiptCommitter,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._receipts = receipts

    async def authenticate(self, token: str) -> realtime.Viewer | None:
        """The device behind a live bearer token, with its groups."""
        async with self._sessionmaker() as session:
            try:
                principal = await auth_service.authenticate(
                    session, settings=self._settings, secret=token
                )
            except CordonError:
                return None
            viewer = await service.viewer_for(
                session, user_id=principal.user.id, device_id=principal.device.id
            )
            return replace(viewer, token_id=principal.token.id)

    async def reload(self, viewer: realtime.Viewer) -> realtime.Viewer | None:
        """Current groups, or None once the device is revoked or the user disabled."""
        async with self._sessionmaker() as session:
            row = (
                await session.execute(
                    select(Device.revoked_at, User.disabled_at)
                    .join(User, User.id == Device.user_id)
                    .where(Device.id == viewer.device_id)
                )
            ).first()
            if row is None or row[0] is not None or row[1] is not None:
                return None
            return await service.viewer_for(
                session, user_id=viewer.user_id, device_id=viewer.device_id
            )

    async def read(
        self, viewer: realtime.Viewer, positions: Mapping[uuid.UUID, int], limit: int
    ) -> Batch:
        """The same read as HTTP sync, rendered as websocket frames."""
        async with self._sessionmaker() as session:
            result = await service.sync(session, viewer=viewer, positions=positions, limit=limit)
        return Batch(
            frames=[service.frame(item) for item in result.items],
            positions=result.positions,
            more=result.more,
        )

    async def heads(self, group_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Stream heads, for the fan-out's watchdog."""
        async with self._sessionmaker() as session:
            return await service.heads(session, group_ids=group_ids)

    def parse_cursor(self, value: str | None) -> dict[uuid.UUID, int]:
        """Positions from a client cursor; range is checked by the first read."""
        try:
            return cursor.decode(value)
        except InvalidCursor as exc:
            raise ValueError(exc.detail) from None

    def encode_cursor(self, positions: Mapping[uuid.UUID, int]) -> str:
        """The cursor to resume from."""
        return cursor.encode(positions)

    async def receipt(self, viewer: realtime.Viewer, body: dict[str, object]) -> str | None:
        """Record a `receipt` frame, or a `receipts` frame (`{"receipts": [...]}`, 1 to 500,
        as `POST /receipts` takes them: recorded all or none); returns the problem code on
        failure."""
        fields = {k: v for k, v in body.items() if k != "type"}
        try:
            if body.get("type") == "receipts":
                receipts = ReceiptBatch.model_validate(fields).receipts
            else:
                receipts = [ReceiptCreate.model_validate(fields)]
        except ValidationError:
            return "core.invalid_input"
        try:
            await self._receipts.record(viewer, receipts)
        except CordonError as exc:
            return exc.code
        return None
