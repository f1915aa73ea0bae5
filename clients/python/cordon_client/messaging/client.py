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
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from cordon_client.account.client import now_ms
from cordon_client.crypto import (
    ContentType,
    GroupSession,
    HistoryBundle,
    Received,
    Recipient,
    SignedPrekey,
)
from cordon_client.crypto.prekeys import Selection, parse_claim, select_recipients
from cordon_client.exceptions import (
    ApiError,
    CordonClientError,
    CryptoError,
    EpochMismatchError,
    ExcludedDeviceError,
    KeyUnavailableError,
    MissingChainError,
    ReplayError,
)
from cordon_client.messaging import history as history
from cordon_client.messaging import outbox
from cordon_client.messaging.incoming import Incoming as Incoming
from cordon_client.messaging.incoming import incoming_from_json, incoming_json
from cordon_client.messaging.incoming import item_meta as item_meta
from cordon_client.messaging.recovery import RecoveryState, answer, ask_owner, park, retry_parked
from cordon_client.messaging.routing import RoutingClient, sending_labels
from cordon_client.wire import NO_LABELS, Labels, MessageRef, message_id_of

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
OWN_RECEIPT = "this device's own receipt, addressed to the item's sender"
STOCK_CHECKED = "one-time-prekeys-checked"
STOCK_CHECK_MS = 86_400_000


def _sendable(kind: str) -> ContentType:
    """The content type of a kind `send` may post; pre-notifications have their own route."""
    if kind not in SENDABLE_KINDS:
        raise CordonClientError(
            f"cannot send kind {kind!r} here; use one of {sorted(SENDABLE_KINDS)}"
        )
    return CONTENT_KINDS[kind]


class MessagingClient(RoutingClient):
    """Sending, receiving and listening, on top of the trust layer."""

    excluded: list[ExcludedDeviceError] = []
    """Devices left out of the latest send (`send`, `send_many`, document key, library grant,
    history transfer) because their served prekey did not verify."""
    _inbox: list[dict[str, Any]] | None = None
    _recovery_state: RecoveryState | None = None
    _chain_arrived = False
    caught_up = True
    """Whether the latest `receive` reached the end of the stream (else call it again)."""

    @property
    def _recovery(self) -> RecoveryState:
        if self._recovery_state is None:
            self._recovery_state = RecoveryState()
        return self._recovery_state

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
        seq = int(posted["seq"])
        self._refs.remember(
            group_id, seq, MessageRef(self.state.require()[1].device_id, message_id)
        )
        return seq

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
        the roster, seal with `seal(recipients, now_ms)` to those that verify, post to exactly
        them. Devices left out are added to `excluded`; if none is left, the first exclusion
        is raised (PROTOCOL §3, recipient selection)."""
        now = now_ms()
        served = prekeys if prekeys is not None else await self._prekeys(group_id)
        selection = await self._choose_prekeys(group_id, session, served, devices, now)
        recipients = selection.recipients
        if not recipients:
            raise (
                selection.excluded[0]
                if selection.excluded
                else KeyUnavailableError("no recipient device")
            )
        envelope = seal(recipients, now)
        self._save()  # persist before send: whatever sealing advanced is on disk first
        return await self._post(
            group_id,
            kind,
            envelope,
            message_id=_message_id(envelope),
            recipients=[r.device_id for r in recipients],
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
    ) -> Selection:
        """Claim one one-time prekey per device and pick each wrap's prekey (PROTOCOL §3.3);
        a served one-time prekey that fails its checks is refused, kept in `prekey_refusals`,
        and the device's signed prekey is used instead. A device with no prekey that verifies
        is left out and added to `excluded`; the caller decides whether what is left will do."""
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
        self.excluded = [*self.excluded, *selection.excluded]
        return selection

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
            if rotate:  # nobody else to hand it to yet: later joiners get it on a later send
                session.start_sender_chain(now_ms=now)
                self.state.set_secret(f"chain-holders:{group_id}", b"")
            return

        def seal(recipients: Sequence[Recipient], at: int) -> bytes:
            if rotate:
                return session.rotate_sender_chain(recipients, now_ms=at)
            assert session.sender_chain is not None
            chain = session.sender_chain.distribution()
            return session.encrypt_targeted(ContentType.SENDER_KEY, chain, recipients, now_ms=at)

        try:
            await self._post_targeted(
                group_id, session, "sender_key", missing, seal, prekeys=prekeys
            )
        except ExcludedDeviceError:
            if rotate:
                raise  # a removal must rotate the chain: refuse to send on the old one
            return  # every device lacking the chain was left out; retried on the next send
        left_out = {e.device_id for e in self.excluded}
        holders = sorted(given | (set(missing) - left_out), key=str)
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
        review: bool = False,
    ) -> int:
        """Encrypt and post one item; returns its sequence number in the group's stream.

        `to_users=None` broadcasts to the whole group; otherwise the content is sealed only to
        those users' verified devices and your own other devices. Pre-notifications go through
        their workflow route instead (`cordon_client._domain.send_prenotification`).
        Kind, urgency and the parent (a reply, or with `review=True` a coordinator's review of
        the case at `parent_seq`) are signed inside the envelope. The advanced chain state is
        saved before the envelope leaves the process."""
        content_type = _sendable(kind)
        data = content.encode() if isinstance(content, str) else content
        self.excluded = []
        session = await self._session(group_id, refresh=True)
        parent = await self._parent_ref(group_id, session, parent_seq)
        labels = sending_labels(urgent=urgent, parent=parent, review=review)
        if to_users is None:
            await self._distribute_chain(group_id, session)
            item_key = history.next_broadcast_key(session)  # a coordinator's own, to grant later
            sent_ms = now_ms()
            envelope = session.encrypt_broadcast(content_type, data, now_ms=sent_ms, labels=labels)
            self._save()  # persist before send: the chain index is spent on disk first
            seq = await self._post(
                group_id,
                kind,
                envelope,
                message_id=_message_id(envelope),
                parent_seq=parent_seq,
                urgent=urgent,
            )
            history.observe_sent(self.state, group_id, seq, kind, parent_seq, envelope, item_key)
            outbox.keep(self.state, group_id, seq, envelope, data, sent_ms)
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
                    content_type, data, targets, now_ms=at, labels=labels
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
        self.excluded = []
        session = await self._session(group_id, refresh=True)
        await self._distribute_chain(group_id, session)
        labels = Labels(urgent=urgent) if urgent else NO_LABELS
        seqs: list[int] = []
        refused: ApiError | None = None
        for start in range(0, len(contents), BATCH_MAX):
            messages = []
            for content in contents[start : start + BATCH_MAX]:
                data = content.encode() if isinstance(content, str) else content
                envelope = session.encrypt_broadcast(
                    content_type, data, now_ms=now_ms(), labels=labels
                )
                messages.append(
                    {
                        "kind": kind,
                        "client_msg_id": str(_message_id(envelope)),
                        "envelope": base64.b64encode(envelope).decode(),
                        "urgent": urgent,
                    }
                )
            self._save()  # persist before send: never reuse a message key, even after a crash
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
        self,
        *,
        group_id: uuid.UUID | None = None,
        limit: int = 500,
        read_kinds: Collection[str] = (),
    ) -> list[Incoming]:
        """Fetch everything new since the last call, verify and decrypt it, acknowledge it.

        Key-carrying items are installed silently; forged, tampered or replayed items come
        back with `verified=False` and the reason, and never change the client's state.
        Verified content is acknowledged "delivered", or "read" for `read_kinds` (an
        application that shows those items at once: one request, and one receipt per item
        for the sender, instead of a "delivered" and then a "read")."""
        params: dict[str, Any] = {"limit": limit}
        cursor = self.state.secret("sync-cursor")
        if cursor:
            params["cursor"] = cursor.decode()
        if group_id is not None:
            params["group_id"] = str(group_id)
        page = await self._call("GET", "/api/v1/sync", params=params)
        out = [await self._open(item) for item in page["items"]]
        if self._chain_arrived:
            self._chain_arrived = False
            out += await retry_parked(self)
        self.state.set_secret("sync-cursor", page["next_cursor"].encode())
        self.caught_up = not page.get("has_more", False)
        delivered = [
            await self._receipt(i.group_id, i.seq, "read" if i.kind in read_kinds else "delivered")
            for i in out
            if i.verified and not i.own and i.kind in CONTENT_KINDS
        ]
        if delivered:
            await self._call("POST", "/api/v1/receipts", json={"receipts": delivered})
        self._save()
        await self._key_maintenance(caught_up=not page.get("has_more", False))
        return [i for i in out if not _hidden(i)]

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

    async def mark_read(self, group_id: uuid.UUID, seq: int, *more: int) -> None:
        """Tell the senders that this user read the items at `seq` (and `more`), in one
        request: all are recorded or none."""
        receipts = [await self._receipt(group_id, s, "read") for s in (seq, *more)]
        await self._call("POST", "/api/v1/receipts", json={"receipts": receipts})

    async def receipts(self, group_id: uuid.UUID, seq: int) -> list[dict[str, Any]]:
        """For an item this user sent: per recipient device, when it was delivered and read
        (`device_id`, `user_id`, `delivered_at`, `read_at`), as the server recorded them."""
        return list(await self._call("GET", f"/api/v1/groups/{group_id}/messages/{seq}/receipts"))

    async def _open(self, item: dict[str, Any], *, park_missing: bool = True) -> Incoming:
        """Verify and decrypt one stream item, and keep content for `take_inbox`."""
        incoming = await self._decrypt_item(item, park_missing=park_missing)
        if incoming.kind in INBOX_KINDS:
            inbox = self._loaded_inbox()
            inbox.append(incoming_json(incoming))
            del inbox[:-INBOX_LIMIT]
        return incoming

    def take_inbox(self) -> list[Incoming]:
        """Content items received since the last call, whether `receive()` or `listen()` took
        them off the stream: an application keeping its own archive (cases, pre-notifications)
        reads them here, since a broadcast can be decrypted only once."""
        items = [incoming_from_json(raw) for raw in self._loaded_inbox()]
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

    async def _decrypt_item(self, item: dict[str, Any], *, park_missing: bool) -> Incoming:
        group_id = uuid.UUID(item["group_id"])
        meta = item_meta(item)
        envelope = base64.b64decode(item["envelope"])
        if not envelope.startswith(ENVELOPE_MAGIC) and item["kind"] not in CONTENT_KINDS:
            incoming = self._server_event(meta, envelope)
            if incoming.kind == "receipt" and incoming.event is not None:
                return await self._checked_receipt(incoming)
            return incoming
        if meta["sender_device_id"] == self.state.require()[1].device_id:
            sent = outbox.find(self.state, group_id, meta["seq"], envelope)
            if sent is not None:
                content, at = sent.content, sent.sent_at
                return Incoming(**meta, verified=True, content=content, sent_at=at, own=True)
        try:
            session = await self._session(group_id)
            meta["parent_seq"] = await self._check_routing(
                group_id, session, envelope, meta, item.get("client_msg_id")
            )
            try:
                received = session.decrypt(envelope)
            except EpochMismatchError:
                session = await self._session(group_id, refresh=True)
                received = session.decrypt(envelope)
        except MissingChainError as exc:
            reason = exc.reason
            if park_missing:
                park(self, item)
                reason += await self._ask_owner(group_id, exc)
            return Incoming(**meta, verified=False, content=None, error=reason)
        except ReplayError as exc:
            if meta["sender_device_id"] != self.state.require()[1].device_id:
                return Incoming(**meta, verified=False, content=None, error=exc.reason)
            # our own envelope whose text this device did not keep (sent by another route)
            return Incoming(**meta, verified=False, content=None, own=True)
        except CryptoError as exc:
            return Incoming(**meta, verified=False, content=None, error=exc.reason)
        if str(received.sender_member_id) != str(meta["sender_user_id"]):
            return Incoming(
                **meta,
                verified=False,
                content=None,
                error="the server's sender does not match the signed sender",
            )
        self._refs.remember(group_id, meta["seq"], received.header.ref)
        await self._after_keys(group_id, received)
        if received.content_type == ContentType.HISTORY_GRANT:  # PROTOCOL §9: kept to import
            history.keep_grant(self.state, group_id, received)
        elif received.content_type == ContentType.HISTORY_TRANSFER:  # §9: records kept to merge
            archive = HistoryBundle.from_bytes(received.content).archive
            history.keep_transfer(
                self.state, group_id, history.parse_transfer_archive(group_id, archive)
            )
        else:
            history.observe(self.state, session, meta, envelope, received)
        review = received.header.labels.review_of is not None
        sent_at = datetime.fromtimestamp(received.header.ts / 1000, UTC)  # signed (§5.1)
        return Incoming(
            **meta, verified=True, content=received.content, review=review, sent_at=sent_at
        )

    async def _checked_receipt(self, incoming: Incoming) -> Incoming:
        """A receipt is verified only if the receipting roster device signed it for this
        device's own item at that seq.

        The server shows a user the items it caused, so the user's other devices get the
        receipts this device posted; this device itself no longer does (docs/REALTIME.md,
        delivery rule), but an echo that still comes (an older server) is addressed to the
        item's sender, is not checked here (checking costs a request per item), and is never
        verified."""
        assert incoming.event is not None
        _, keystore = self.state.require()
        if incoming.sender_device_id == keystore.device_id:
            return dataclasses.replace(incoming, error=OWN_RECEIPT)
        problem = await self._receipt_problem(incoming.group_id, incoming.event)
        if problem is not None:
            return dataclasses.replace(incoming, error=problem)
        return dataclasses.replace(incoming, verified=True)

    async def _ask_owner(self, group_id: uuid.UUID, exc: MissingChainError) -> str:
        """Ask for a missing chain; the note added to the item's error."""
        try:
            session = await self._session(group_id)
            asked = await ask_owner(self, group_id, session, exc)
        except CordonClientError as failed:
            return f"; could not ask the sender to re-share it ({failed})"
        return "; the sender was asked to re-share it" if asked else "; already asked"

    async def _after_keys(self, group_id: uuid.UUID, received: Received) -> None:
        """Answer a KEY_REQUEST; note that a chain arrived so parked items are retried."""
        if received.content_type == ContentType.SENDER_KEY:
            self._chain_arrived = True
        elif received.content_type == ContentType.KEY_REQUEST:
            with contextlib.suppress(CordonClientError):
                await answer(self, group_id, received.header.sender_device_id, received.content)

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


def _hidden(item: Incoming) -> bool:
    """Not for the application: a key hand-out installed silently, or this device's own
    receipt echoed back to it."""
    if item.error == OWN_RECEIPT:
        return True
    return item.kind in KEY_KINDS and not item.event and item.verified


def _message_id(envelope: bytes) -> uuid.UUID:
    """The client message id bound into the signed header (bytes 70..86, PROTOCOL §5.1)."""
    return message_id_of(envelope)
