"""`Cordon`: the high-level, typed, async client over the server API and the E2EE protocol.

One `Cordon` object is one device of one user, with its state directory (profile + encrypted
keystore). The layers build on each other: `account` (transport, keys, login), `groups`
(groups, signed log, verified rosters), `messaging` (send, receive, listen) and, here, the
document library and history, which ride on targeted envelopes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from cordon_client.account.client import now_ms, tls_for
from cordon_client.exceptions import (
    CordonClientError,
    KeyUnavailableError,
    UntrustedSenderError,
)
from cordon_client.library.client import (
    Downloaded,
    LibraryClient,
    Notice,
    Progress,
    Published,
    RemoteDocument,
    RemoteVersion,
)
from cordon_client.library.resume import publish_resumable
from cordon_client.messaging import history as history
from cordon_client.messaging.client import Incoming, MessagingClient, item_meta
from cordon_client.messaging.realtime import Listener

__all__ = ["Cordon", "Incoming", "item_meta"]


class Cordon(MessagingClient):
    """One device's client. Use as `async with Cordon(dir, passphrase, server=url) as c:`."""

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
        return Listener(
            self,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_retries=max_retries,
            ping_interval=ping_interval,
            persist_interval=persist_interval,
        )

    async def transfer_history(self, group_id: uuid.UUID, device_id: uuid.UUID) -> int:
        """Hand this device's chain states, document keys and records archive (the cases and
        pre-notifications it holds) to another device of yours, so it can read the library,
        broadcasts in flight and what came before it (PROTOCOL §9); nobody else may receive
        them. The archive is in the browser's form, in as many envelopes as it needs. Returns
        how many archived items went."""
        return await history.transfer(self, group_id, device_id)

    async def link_device(
        self, group_id: uuid.UUID, code: str
    ) -> tuple[uuid.UUID, int | CordonClientError]:
        """From the device holding your member key: certify the new device whose link code you
        entered (`certify_device`), then hand it this device's history in the group
        (`transfer_history`), as the browser does. A failed transfer does not undo the link:
        it comes back in place of the count (send it again with `transfer_history`)."""
        device_id = await self.certify_device(group_id, code)
        try:
            return device_id, await self.transfer_history(group_id, device_id)
        except CordonClientError as exc:
            return device_id, exc

    @contextmanager
    def _library(self, rate: int | None = None) -> Iterator[LibraryClient]:
        """A synchronous library client sharing this device's identity (run in a thread);
        `rate` caps transfers at that many bytes per second."""
        _, keystore = self.state.require()
        headers = {"Authorization": f"Bearer {self.state.token}"}
        verify = tls_for(self.server)
        with httpx.Client(base_url=self.server, timeout=60, headers=headers, verify=verify) as http:
            yield LibraryClient(
                http, device_id=keystore.device_id, signing_key=keystore.signing_key, rate=rate
            )

    async def library_documents(
        self, group_id: uuid.UUID, *, category: str | None = None
    ) -> list[RemoteDocument]:
        """The group's documents, newest publication first (names stay encrypted)."""
        with self._library() as library:
            return await asyncio.to_thread(
                lambda: list(library.documents(group_id, category=category))
            )

    async def library_versions(
        self, group_id: uuid.UUID, document_id: uuid.UUID
    ) -> list[RemoteVersion]:
        """Every version of one document."""
        with self._library() as library:
            return await asyncio.to_thread(library.versions, group_id, document_id)

    async def publish_document(
        self,
        group_id: uuid.UUID,
        path: Path,
        *,
        category: str | None,
        document_id: uuid.UUID | None = None,
        version: int = 1,
        progress: Progress | None = None,
        notice: Notice | None = None,
        rate: int | None = None,
    ) -> Published:
        """Encrypt, upload and publish a file (coordinators), then wrap its fresh key to every
        verified device of the group as a DOCUMENT_KEY envelope.

        An upload interrupted by a failure or a restart continues when the same publication is
        asked for again (its state is a keystore secret until the key has gone out; `notice`
        is told what happened); a file changed since starts over."""
        self.excluded = []
        session = await self._session(group_id, refresh=True)
        me = session.roster.members.get(session.member_id)
        if me is None or me.role != "coordinator":
            raise UntrustedSenderError(
                "only a coordinator in the signed log may publish: readers refuse documents "
                "keyed by anyone else"
            )
        with self._library(rate) as library:
            published, record = await asyncio.to_thread(
                publish_resumable,
                library,
                group_id,
                path,
                category=category,
                document_id=document_id,
                version=version,
                epoch_id=session.roster.epoch_id,
                secret=self.state.secret,
                set_secret=self.state.set_secret,
                save=self.state.save,
                progress=progress,
                notice=notice,
            )
        session.document_keys[(published.document_id, published.version)] = published.key
        prekeys = await self._prekeys(group_id)
        devices = [
            d.device_id
            for d in session.roster.devices()
            if d.device_id != session.device_id and d.device_id in prekeys
        ]
        if devices:
            await self._post_targeted(
                group_id,
                session,
                "library",
                devices,
                lambda targets, at: session.share_document_key(published.key, targets, now_ms=at),
                prekeys=prekeys,
            )
        self.state.set_secret(record, None)
        self._save()
        return published

    async def withdraw_document(self, group_id: uuid.UUID, document_id: uuid.UUID) -> None:
        """As coordinator: withdraw a document; members see it flagged and can no longer
        download it."""
        with self._library() as library:
            await asyncio.to_thread(library.withdraw, group_id, document_id)

    async def download_document(
        self,
        group_id: uuid.UUID,
        document_id: uuid.UUID,
        version: int,
        dest: Path,
        *,
        progress: Progress | None = None,
        notice: Notice | None = None,
        rate: int | None = None,
    ) -> Downloaded:
        """Download and decrypt a version; the manifest must be signed by a coordinator's device
        of the verified log and the key must have reached this device end to end."""
        session = await self._session(group_id, refresh=True)
        key = session.document_keys.get((document_id, version))
        if key is None:
            raise KeyUnavailableError(
                "no key for this document on this device: it was published before you "
                "joined; ask a coordinator for a library grant"
            )
        with self._library(rate) as library:
            remote = await asyncio.to_thread(library.version, group_id, document_id, version)
            document = await asyncio.to_thread(library.document, group_id, document_id)
            return await asyncio.to_thread(
                library.download,
                group_id,
                document_id,
                version,
                key=key,
                roster=session.roster,
                dest=dest,
                progress=progress,
                remote=remote,
                category=document.category,
                notice=notice,
            )

    async def grant_history(self, group_id: uuid.UUID, user_id: uuid.UUID, scope: str) -> int:
        """As coordinator: log a `cases` or `prenotifications` history grant for a member and
        send them the keys of the earlier items this device opened (PROTOCOL §9). Returns how
        many items were granted."""
        return await history.grant(self, group_id, user_id, scope)

    async def grant_library(self, group_id: uuid.UUID, user_id: uuid.UUID) -> int:
        """As coordinator: record an explicit library-history grant for a member in the signed
        log, then send them every document key this device holds (PROTOCOL §9)."""
        root = self._coordinator_key(group_id)
        writer = await self._verified_writer(group_id)
        await self._append(group_id, writer.grant_history(root, user_id, now_ms()))
        self.excluded = []
        session = await self._session(group_id, refresh=True)
        member = session.roster.members.get(user_id)
        prekeys = await self._prekeys(group_id)
        devices = [d for d in (member.devices if member else ()) if d in prekeys]
        if not devices:
            raise KeyUnavailableError("the member has no certified device to receive keys")
        keys = list(session.document_keys.values())
        seq = await self._post_targeted(
            group_id,
            session,
            "library",
            devices,
            lambda targets, at: session.grant_library(user_id, keys, targets, now_ms=at),
            prekeys=prekeys,
        )
        self._save()
        return seq
