"""The client's messaging layer: send, receive and listen, each item verified and decrypted.

Broadcasts ride on sender-key chains handed lazily to devices that lack them; every targeted
envelope takes one path (`_post_targeted`); refused items come back with the reason; content
waits in the encrypted inbox for application layers (`take_inbox`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from cordon_client._account import now_ms
from cordon_client._crypto import (
    ContentType,
    GroupSession,
    Recipient,
    SignedPrekey,
)
from cordon_client._crypto.prekeys import parse_claim, select_recipients
from cordon_client._groups import GroupsClient
from cordon_client.exceptions import (
    ApiError,
    CordonClientError,
    CryptoError,
    EpochMismatchError,
    KeyUnavailableError,
)

CONTENT_KINDS = {
    "alert": ContentType.ALERT,
    "chat": ContentType.MESSAGE,
    "prenotification": ContentType.PRENOTIFICATION,
}
SENDABLE_KINDS = {"alert", "chat"}
BATCH_MAX = 256  # messages per batch post, as the server allows
INBOX = "inbox"
INBOX_KINDS = {"alert", "chat", "prenotification", "prenotification_event"}
INBOX_LIMIT = 5_000  # newest kept when nobody reads the inbox
KEY_KINDS = {"sender_key", "library", "history_transfer"}
ENVELOPE_MAGIC = b"CXM"
STOCK_CHECKED = "one-time-prekeys-checked"
STOCK_CHECK_MS = 86_400_000

if TYPE_CHECKING:
    from cordon_client._realtime import Listener


@dataclass(frozen=True)
class Incoming:
    """One item received by sync.

    End-to-end content comes back decrypted with `verified=True`, or with `verified=False` and
    the `error` saying why it was refused. Server events (membership changes, receipts,
    library notices) carry `event`: the server's own JSON, not end-to-end protected.
    """

    group_id: uuid.UUID
    seq: int
    kind: str
    sender_user_id: uuid.UUID | None
    sender_device_id: uuid.UUID | None
    verified: bool
    content: bytes | None
    error: str | None = None
    urgent: bool = False
    parent_seq: int | None = None
    event: dict[str, Any] | None = None
    created_at: datetime | None = None

    @property
    def text(self) -> str | None:
        """The content as text, for chat and CLI display."""
        return self.content.decode("utf-8", "replace") if self.content is not None else None


def _sendable(kind: str) -> ContentType:
    """The content type of a kind `send` may post; pre-notifications have their own route."""
    if kind not in SENDABLE_KINDS:
        raise CordonClientError(
            f"cannot send kind {kind!r} here; use one of {sorted(SENDABLE_KINDS)}"
        )
    return CONTENT_KINDS[kind]


class MessagingClient(GroupsClient):
    """Sending, receiving and listening, on top of the trust layer."""

    _inbox: list[dict[str, Any]] | None = None

    async def _prekeys(self, group_id: uuid.UUID) -> dict[uuid.UUID, SignedPrekey]:
        keys = await self._call("GET", f"/api/v1/groups/{group_id}/keys")
        served: dict[uuid.UUID, SignedPrekey] = {}
        for device in keys:
            records = [SignedPrekey.from_json(p) for p in device["prekeys"]]
            if records:
                newest = max(records, key=lambda p: p.created_ts)
                served[uuid.UUID(device["device_id"])] = newest
        return served

    async def _post(
        self,
        group_id: uuid.UUID,
        kind: str,
        envelope: bytes,
        *,
        message_id: uuid.UUID,
        recipients: Sequence[uuid.UUID] | None = None,
        parent_seq: int | None = None,
        urgent: bool = False,
    ) -> int:
        body = {
            "kind": kind,
            "client_msg_id": str(message_id),
            "envelope": base64.b64encode(envelope).decode(),
            "recipients": [str(r) for r in recipients] if recipients else None,
            "parent_seq": parent_seq,
            "urgent": urgent,
        }
        body = {k: v for k, v in body.items() if v is not None}
        posted = await self._call("POST", f"/api/v1/groups/{group_id}/messages", json=body)
        return int(posted["seq"])

    async def _post_targeted(
        self,
        group_id: uuid.UUID,
        session: GroupSession,
        kind: str,
        devices: Sequence[uuid.UUID],
        seal: Callable[[Sequence[Recipient], int], bytes],
        *,
        prekeys: Mapping[uuid.UUID, SignedPrekey] | None = None,
        parent_seq: int | None = None,
        urgent: bool = False,
    ) -> int:
        """The one path of every targeted envelope: verify the devices' served prekeys against
        the roster, seal to them with `seal(recipients, now_ms)`, post to exactly them."""
        now = now_ms()
        served = prekeys if prekeys is not None else await self._prekeys(group_id)
        recipients = await self._choose_prekeys(group_id, session, served, devices, now)
        envelope = seal(recipients, now)
        return await self._post(
            group_id,
            kind,
            envelope,
            message_id=_message_id(envelope),
            recipients=devices,
            parent_seq=parent_seq,
            urgent=urgent,
        )

    async def _choose_prekeys(
        self,
        group_id: uuid.UUID,
        session: GroupSession,
        served: Mapping[uuid.UUID, SignedPrekey],
        devices: Sequence[uuid.UUID],
        now: int,
    ) -> list[Recipient]:
        """Claim one one-time prekey per device and pick each wrap's prekey (PROTOCOL §3.3);
        a served one-time prekey that fails its checks is refused, kept in `prekey_refusals`,
        and the device's signed prekey is used instead."""
        answer = await self._call(
            "POST",
            f"/api/v1/groups/{group_id}/one-time-prekeys/claim",
            json={"device_ids": [str(d) for d in devices]},
        )
        selection = select_recipients(
            session.roster,
            devices,
            signed=served,
            claimed=parse_claim(answer.get("items"), devices),
            now_ms=now,
            ledger=self.claim_ledger(),
        )
        self.prekey_refusals.extend(selection.refusals)
        return selection.recipients

    async def _distribute_chain(self, group_id: uuid.UUID, session: GroupSession) -> None:
        """Hand the current sender chain to roster devices that do not have it yet."""
        prekeys = await self._prekeys(group_id)
        now = now_ms()
        others = [
            d.device_id
            for d in session.roster.devices()
            if d.device_id != session.device_id and d.device_id in prekeys
        ]
        rotate = session.needs_rotation(now)
        given = set() if rotate else set(self._chain_holders(group_id))
        missing = [d for d in others if d not in given]
        if not missing:
            return

        def seal(recipients: Sequence[Recipient], at: int) -> bytes:
            if rotate:
                return session.rotate_sender_chain(recipients, now_ms=at)
            assert session.sender_chain is not None
            chain = session.sender_chain.distribution()
            return session.encrypt_targeted(ContentType.SENDER_KEY, chain, recipients, now_ms=at)

        await self._post_targeted(group_id, session, "sender_key", missing, seal, prekeys=prekeys)
        holders = sorted(given | set(missing), key=str)
        self.state.set_secret(f"chain-holders:{group_id}", b"".join(d.bytes for d in holders))

    def _chain_holders(self, group_id: uuid.UUID) -> list[uuid.UUID]:
        raw = self.state.secret(f"chain-holders:{group_id}") or b""
        return [uuid.UUID(bytes=raw[i : i + 16]) for i in range(0, len(raw), 16)]

    async def send(
        self,
        group_id: uuid.UUID,
        content: bytes | str,
        *,
        kind: str = "alert",
        to_users: Sequence[uuid.UUID] | None = None,
        parent_seq: int | None = None,
        urgent: bool = False,
    ) -> int:
        """Encrypt and post one item; returns its sequence number in the group's stream.

        `to_users=None` broadcasts to the whole group; otherwise the content is sealed only to
        those users' verified devices and your own other devices. Pre-notifications go through
        their workflow route instead (`cordon_client._domain.send_prenotification`)."""
        content_type = _sendable(kind)
        data = content.encode() if isinstance(content, str) else content
        session = await self._session(group_id, refresh=True)
        if to_users is None:
            await self._distribute_chain(group_id, session)
            envelope = session.encrypt_broadcast(content_type, data, now_ms=now_ms())
            seq = await self._post(
                group_id,
                kind,
                envelope,
                message_id=_message_id(envelope),
                parent_seq=parent_seq,
                urgent=urgent,
            )
        else:
            wanted = set(to_users) | {session.member_id}
            devices = [
                d.device_id
                for d in session.roster.devices()
                if d.member_id in wanted and d.device_id != session.device_id
            ]
            if not devices:
                raise KeyUnavailableError("none of the recipients has a certified device")
            seq = await self._post_targeted(
                group_id,
                session,
                kind,
                devices,
                lambda targets, at: session.encrypt_targeted(
                    content_type, data, targets, now_ms=at
                ),
                parent_seq=parent_seq,
                urgent=urgent,
            )
        self._save()
        return seq

    async def send_many(
        self,
        group_id: uuid.UUID,
        contents: Sequence[bytes | str],
        *,
        kind: str = "alert",
        urgent: bool = False,
    ) -> list[int]:
        """Encrypt and broadcast several items, posted in batches of up to 256 (one request
        and one server commit per batch: a backlog or an import, not a loop of `send`).

        Returns their sequence numbers in order. If the server refuses any item, the others
        stay stored and `ApiError` is raised for the first refused one."""
        content_type = _sendable(kind)
        session = await self._session(group_id, refresh=True)
        await self._distribute_chain(group_id, session)
        seqs: list[int] = []
        refused: ApiError | None = None
        for start in range(0, len(contents), BATCH_MAX):
            messages = []
            for content in contents[start : start + BATCH_MAX]:
                data = content.encode() if isinstance(content, str) else content
                envelope = session.encrypt_broadcast(content_type, data, now_ms=now_ms())
                messages.append(
                    {
                        "kind": kind,
                        "client_msg_id": str(_message_id(envelope)),
                        "envelope": base64.b64encode(envelope).decode(),
                        "urgent": urgent,
                    }
                )
            self._save()  # the chain advanced: never reuse a message key, even on failure
            answer = await self._call(
                "POST", f"/api/v1/groups/{group_id}/messages/batch", json={"messages": messages}
            )
            for result in answer["results"]:
                if result["status"] >= 400:
                    problem = result.get("problem") or {}
                    refused = refused or ApiError(
                        result["status"], str(problem.get("code")), str(problem.get("detail"))
                    )
                else:
                    seqs.append(int(result["seq"]))
        if refused is not None:
            raise refused
        return seqs

    async def receive(
        self, *, group_id: uuid.UUID | None = None, limit: int = 500
    ) -> list[Incoming]:
        """Fetch everything new since the last call, verify and decrypt it, acknowledge it.

        Key-carrying items are installed silently; forged, tampered or replayed items come
        back with `verified=False` and the reason, and never change the client's state."""
        params: dict[str, Any] = {"limit": limit}
        cursor = self.state.secret("sync-cursor")
        if cursor:
            params["cursor"] = cursor.decode()
        if group_id is not None:
            params["group_id"] = str(group_id)
        page = await self._call("GET", "/api/v1/sync", params=params)
        out = [await self._open(item) for item in page["items"]]
        self.state.set_secret("sync-cursor", page["next_cursor"].encode())
        delivered = [
            {"group_id": str(i.group_id), "seq": i.seq, "status": "delivered"}
            for i in out
            if i.verified and i.kind in CONTENT_KINDS
        ]
        if delivered:
            await self._call("POST", "/api/v1/receipts", json={"receipts": delivered})
        self._save()
        await self._key_maintenance(caught_up=not page.get("has_more", False))
        return [i for i in out if i.kind not in KEY_KINDS or i.event or not i.verified]

    async def _maintain_prekeys(self, *, caught_up: bool) -> None:
        """After a sync: rotate the signed prekey when due, delete superseded private halves
        once caught up (PROTOCOL §3), top up one-time prekeys when some were used (and check
        the server's count at least daily, in case keys were claimed and never used)."""
        _, keystore = self.state.require()
        now = now_ms()
        rotated = await self._rotate_signed_prekey(now)
        if caught_up and keystore.delete_expired_prekeys(now):
            for session in self._sessions.values():
                session.prekeys = keystore.prekey_privates()
            self._save()
        store = self.one_time_prekeys()
        checked = int.from_bytes(self.state.secret(STOCK_CHECKED) or b"", "big")
        if store.consumed or rotated or now - checked >= STOCK_CHECK_MS:
            await self._replenish_one_time_prekeys()
            store.consumed = 0
            self.state.set_secret(STOCK_CHECKED, now.to_bytes(8, "big"))

    async def _key_maintenance(self, *, caught_up: bool) -> None:
        """`_maintain_prekeys` after each sync page or live item: local checks, a request only
        when something is due; a failure is left for the next time (what was received stands)."""
        with contextlib.suppress(ApiError, httpx.TransportError):
            await self._maintain_prekeys(caught_up=caught_up)

    async def mark_read(self, group_id: uuid.UUID, seq: int) -> None:
        """Tell the sender that this user read the item."""
        await self._call(
            "POST",
            "/api/v1/receipts",
            json={"receipts": [{"group_id": str(group_id), "seq": seq, "status": "read"}]},
        )

    def listen(
        self,
        *,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_retries: int | None = None,
        ping_interval: float = 30.0,
        persist_interval: float = 1.0,
    ) -> Listener:
        """Live items over the websocket, verified and decrypted, each exactly once.

        Use as ``async with cordon.listen() as items: async for item in items: ...``; it
        shares its position with `receive()` (do not run both at the same time).

        Args:
            backoff_base: first reconnect delay bound in seconds (full jitter, doubling).
            backoff_cap: largest reconnect delay bound in seconds.
            max_retries: consecutive failed connections tolerated; None retries forever.
            ping_interval: seconds of silence before an application ping.
            persist_interval: at most this often the keystore is rewritten while live.

        Returns:
            A `Listener`: an async iterator of `Incoming`, also an async context manager.

        Raises:
            RealtimeError: while iterating, when the server no longer accepts this device.
        """
        from cordon_client._realtime import Listener

        return Listener(
            self,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_retries=max_retries,
            ping_interval=ping_interval,
            persist_interval=persist_interval,
        )

    async def _open(self, item: dict[str, Any]) -> Incoming:
        """Verify and decrypt one stream item, and keep content for `take_inbox`."""
        incoming = await self._decrypt_item(item)
        if incoming.kind in INBOX_KINDS:
            inbox = self._loaded_inbox()
            inbox.append(_incoming_json(incoming))
            del inbox[:-INBOX_LIMIT]
        return incoming

    def take_inbox(self) -> list[Incoming]:
        """Content items received since the last call, whether `receive()` or `listen()` took
        them off the stream: an application keeping its own archive (cases, pre-notifications)
        reads them here, since a broadcast can be decrypted only once."""
        items = [_incoming_from_json(raw) for raw in self._loaded_inbox()]
        self._inbox = []
        return items

    def _loaded_inbox(self) -> list[dict[str, Any]]:
        if self._inbox is None:
            raw = self.state.secret(INBOX) if self.state.keystore else None
            self._inbox = json.loads(raw) if raw else []
        return self._inbox

    def _save(self) -> None:
        if self._inbox is not None and self.state.keystore is not None:
            self.state.set_secret(INBOX, json.dumps(self._inbox).encode())
        super()._save()

    async def _decrypt_item(self, item: dict[str, Any]) -> Incoming:
        group_id = uuid.UUID(item["group_id"])
        meta = item_meta(item)
        envelope = base64.b64decode(item["envelope"])
        if not envelope.startswith(ENVELOPE_MAGIC) and item["kind"] not in CONTENT_KINDS:
            return self._server_event(meta, envelope)
        try:
            session = await self._session(group_id)
            try:
                received = session.decrypt(envelope)
            except EpochMismatchError:
                received = (await self._session(group_id, refresh=True)).decrypt(envelope)
        except CryptoError as exc:
            return Incoming(**meta, verified=False, content=None, error=exc.reason)
        if str(received.sender_member_id) != str(meta["sender_user_id"]):
            return Incoming(
                **meta,
                verified=False,
                content=None,
                error="the server's sender does not match the signed sender",
            )
        return Incoming(**meta, verified=True, content=received.content)

    def _server_event(self, meta: dict[str, Any], raw: bytes) -> Incoming:
        """A server-written item; a membership change means the roster must be re-verified."""
        try:
            event = json.loads(raw)
        except ValueError:
            return Incoming(**meta, verified=False, content=None, error="malformed server event")
        if meta["kind"] == "membership":
            stale = self._sessions.pop(meta["group_id"], None)
            if stale is not None:  # keep its chains; the roster is rebuilt on next use
                self.state.set_secret(f"session:{meta['group_id']}", stale.export_state())
        return Incoming(
            **meta,
            verified=False,
            content=None,
            event=event if isinstance(event, dict) else {"value": event},
        )


def item_meta(item: dict[str, Any]) -> dict[str, Any]:
    """The routing fields of a served stream item (sync page or `item` frame), parsed."""
    created = item.get("created_at")
    return {
        "group_id": uuid.UUID(item["group_id"]),
        "seq": int(item["seq"]),
        "kind": item["kind"],
        "sender_user_id": uuid.UUID(item["sender_user_id"]) if item["sender_user_id"] else None,
        "sender_device_id": (
            uuid.UUID(item["sender_device_id"]) if item["sender_device_id"] else None
        ),
        "urgent": bool(item.get("urgent")),
        "parent_seq": item.get("parent_seq"),
        "created_at": datetime.fromisoformat(created) if isinstance(created, str) else None,
    }


def _incoming_json(item: Incoming) -> dict[str, Any]:
    """An `Incoming` as JSON for the keystore's inbox."""
    raw = dataclasses.asdict(item)
    for name in ("group_id", "sender_user_id", "sender_device_id"):
        raw[name] = str(raw[name]) if raw[name] else None
    raw["content"] = base64.b64encode(item.content).decode() if item.content is not None else None
    raw["created_at"] = item.created_at.isoformat() if item.created_at else None
    return raw


def _incoming_from_json(raw: dict[str, Any]) -> Incoming:
    """The inverse of `_incoming_json`."""
    values = dict(raw)
    values["group_id"] = uuid.UUID(values["group_id"])
    for name in ("sender_user_id", "sender_device_id"):
        values[name] = uuid.UUID(values[name]) if values[name] else None
    values["content"] = base64.b64decode(values["content"]) if values["content"] else None
    values["created_at"] = (
        datetime.fromisoformat(values["created_at"]) if values["created_at"] else None
    )
    return Incoming(**values)


def _message_id(envelope: bytes) -> uuid.UUID:
    """The client message id bound into the signed header (bytes 70..86, PROTOCOL §5.1)."""
    return uuid.UUID(bytes=envelope[70:86])
