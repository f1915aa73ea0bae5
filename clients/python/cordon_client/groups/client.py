"""The client's trust layer: groups, the signed membership log, pinned roots, rosters.

Every roster the client acts on is verified from the root it pinned, read to its head, and
compared with the head this device persisted (rollback, fork). Keys enter the log only when
bound out of band: an invitation (member keys), a link code (devices) or, as the explicit
fallback, a safety number compared once; the server's directory is only a source of candidates.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cordon_client.account.client import AccountClient, now_ms
from cordon_client.crypto import (
    GroupSession,
    LogEntry,
    LogWriter,
    Roster,
    fingerprint,
    public_bytes,
    qr_payload,
    verify_log,
)
from cordon_client.crypto._encoding import b64d, b64e
from cordon_client.crypto.invite import (
    INVITATION_TTL_MS,
    Invitation,
    check_join_mac,
    check_link_code,
    check_member_fingerprint,
    join_mac,
    link_code,
    member_qr_payload,
    member_safety_number,
    parse_link_code,
)
from cordon_client.crypto.roster import CHECKPOINT_INTERVAL, check_own_device, checkpoint_due
from cordon_client.exceptions import (
    ApiError,
    BindingError,
    ForkError,
    LogGapError,
    TrustError,
    UnknownIdError,
)
from cordon_client.groups import loghead as loghead
from cordon_client.groups import shortid
from cordon_client.groups.directory import GroupMember, merge

LOG_PAGE = 1000
USERS_PAGE = 500  # the most `GET /users` serves at once


class GroupsClient(AccountClient):
    """Groups and the signed log, on top of the account layer."""

    checkpoint_interval: int = CHECKPOINT_INTERVAL

    async def groups(self) -> list[dict[str, Any]]:
        """The groups this user belongs to, with their role in each."""
        return list(await self._call("GET", "/api/v1/groups"))

    async def create_group(
        self, name: str, description: str = "", coordinator_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        """Open a group on the server (platform administrators only)."""
        body = {
            "name": name,
            "description": description,
            "coordinator_id": str(coordinator_id) if coordinator_id else None,
        }
        return uuid.UUID((await self._call("POST", "/api/v1/groups", json=body))["id"])

    async def set_group_status(self, group_id: uuid.UUID, status: str) -> None:
        """Move the group along planned → active → closed → archived (coordinators)."""
        await self._call("POST", f"/api/v1/groups/{group_id}/status", json={"status": status})

    async def _log_entries(self, group_id: uuid.UUID) -> list[LogEntry]:
        """The whole log, page by page until the head the server reports (PROTOCOL §4.5)."""
        entries: list[LogEntry] = []
        while True:
            after = entries[-1].seq if entries else -1
            data = await self._call(
                "GET",
                f"/api/v1/groups/{group_id}/log",
                params={"after_seq": after, "limit": LOG_PAGE},
            )
            page = [LogEntry.from_json(item["entry"]) for item in data["items"]]
            head = data["head_seq"]
            if not page:
                if head is not None and head > after:
                    raise LogGapError(
                        f"the server reports head seq {head} but serves nothing after seq {after}"
                    )
                return entries
            if page[0].seq != after + 1:
                raise LogGapError(
                    f"log page after seq {after} starts at seq {page[0].seq}: entries withheld"
                )
            entries.extend(page)
            if head is None or entries[-1].seq >= head:
                return entries

    async def _append(
        self, group_id: uuid.UUID, entry: LogEntry, writer: LogWriter | None = None
    ) -> None:
        """Post `entry`; if `writer` holds the log it ends and this device holds the root key,
        follow it with a root-signed checkpoint when one is due (PROTOCOL §4.4)."""
        await self._call("POST", f"/api/v1/groups/{group_id}/log", json={"entry": entry.to_json()})
        if writer is not None:
            await self._checkpoint_if_due(group_id, writer)

    async def _checkpoint_if_due(self, group_id: uuid.UUID, writer: LogWriter) -> None:
        """Another device's entry racing the checkpoint only postpones it to the next append."""
        root = self.state.root_key(group_id)
        if root is None:
            return
        if not checkpoint_due(public_bytes(root), writer.entries, self.checkpoint_interval):
            return
        digest = verify_log(public_bytes(root), group_id, writer.entries).digest()
        entry = writer.checkpoint(root, digest, now_ms())
        try:
            await self._call(
                "POST", f"/api/v1/groups/{group_id}/log", json={"entry": entry.to_json()}
            )
        except ApiError as exc:
            if exc.code != "keys.log_out_of_order":
                raise
            writer.entries.pop()

    async def _verified_writer(self, group_id: uuid.UUID) -> LogWriter:
        """Sign only on top of a log this device verified to its head."""
        roster = await self.roster(group_id)
        return LogWriter(group_id, list(roster.entries))

    async def open_group_log(self, group_id: uuid.UUID) -> str:
        """As the group's coordinator: create its trust root and certify yourself and this
        device. Returns the root fingerprint to read out to members."""
        profile, keystore = self.state.require()
        if keystore.member_key is None:
            raise TrustError("this device does not hold your member key")
        root = Ed25519PrivateKey.generate()
        writer = LogWriter(group_id)
        now = now_ms()
        entries = [
            writer.genesis(root, now),
            writer.add_member(
                root,
                uuid.UUID(profile.user_id),
                public_bytes(keystore.member_key),
                "coordinator",
                now,
            ),
            writer.add_device(
                keystore.member_key,
                uuid.UUID(profile.user_id),
                keystore.device_id,
                public_bytes(keystore.signing_key),
                now,
            ),
        ]
        for entry in entries:
            await self._append(group_id, entry)
        self.state.set_secret(f"root-key:{group_id}", root.private_bytes_raw())
        self.state.set_secret(f"root-pin:{group_id}", public_bytes(root))
        loghead.remember_head(self.state, verify_log(public_bytes(root), group_id, writer.entries))
        self._save()
        return fingerprint(group_id, public_bytes(root))

    def fingerprint(self, group_id: uuid.UUID) -> tuple[str, str]:
        """The pinned root's comparison code and QR payload, for out-of-band checks."""
        root = self.state.pinned_root(group_id)
        if root is None:
            raise TrustError("no trust root pinned for this group: join it first")
        return fingerprint(group_id, root), qr_payload(group_id, root)

    # -- member keys bound out of band (PROTOCOL §3.5, §3.6) ----------------------------

    async def invite(
        self, group_id: uuid.UUID, *, for_user: str | None = None, ttl_hours: int = 14 * 24
    ) -> str:
        """As coordinator: issue a one-time invitation for one member, to hand over outside
        Cordon (string or QR). Its secret stays in this device's keystore."""
        root = self._coordinator_key(group_id)
        invitation = Invitation.create(group_id, public_bytes(root))
        await self._call(
            "POST",
            f"/api/v1/groups/{group_id}/invitations",
            json={"invitation_id": b64e(invitation.invitation_id), "ttl_hours": ttl_hours},
        )
        issued = loghead.IssuedInvitation(invitation, now_ms(), for_user)
        loghead.keep_invitation(self.state, issued)
        self._save()
        return invitation.to_text()

    async def request_join(self, invitation_text: str) -> uuid.UUID:
        """Answer an invitation: check the group's root against it, pin that root, and send
        this member key with its MAC. The coordinator then admits you (`add_member`)."""
        profile, keystore = self.state.require()
        invitation = Invitation.from_text(invitation_text)
        group_id = invitation.group_id
        if keystore.member_key is None:
            raise TrustError(
                "this device does not hold your member key: answer the invitation from your "
                "first device, then link this one (`cordon device link`)"
            )
        member_id, member_key = uuid.UUID(profile.user_id), public_bytes(keystore.member_key)
        answer = await self._call(
            "POST",
            f"/api/v1/groups/{group_id}/invitations/{b64e(invitation.invitation_id)}/join-request",
            json={
                "member_key": b64e(member_key),
                "mac": b64e(join_mac(invitation, member_id, member_key)),
            },
        )
        genesis = LogEntry.from_json(answer["genesis"])
        root = b64d(genesis.body.get("root_key"), length=32, what="genesis root_key")
        invitation.check_root(group_id, root)
        verify_log(root, group_id, [genesis])
        pinned = self.state.pinned_root(group_id)
        if pinned is not None and pinned != root:
            raise TrustError("the group's root key changed since you pinned it")
        self.state.set_secret(f"root-pin:{group_id}", root)
        self._save()
        return group_id

    def member_fingerprint(self) -> tuple[str, str]:
        """Your member key's safety number and QR payload, for the fingerprint fallback."""
        profile, keystore = self.state.require()
        if keystore.member_key is None:
            raise TrustError("this device does not hold your member key")
        member_id, key = uuid.UUID(profile.user_id), public_bytes(keystore.member_key)
        return member_safety_number(member_id, key), member_qr_payload(member_id, key)

    async def join_group(self, group_id: uuid.UUID, expected_fingerprint: str | None = None) -> str:
        """Pin the group's root (by the invitation answered earlier, or by checking the
        out-of-band fingerprint) and certify this device once the coordinator certified you."""
        pinned = self.state.pinned_root(group_id)
        if pinned is None and expected_fingerprint is None:
            raise TrustError(
                "no trust root pinned for this group: answer your invitation "
                "(`cordon group join --invitation …`) or give the root fingerprint"
            )
        entries = await self._log_entries(group_id)
        if not entries or entries[0].op != "genesis":
            raise TrustError("the group's log has not been opened by its coordinator yet")
        root = b64d(entries[0].body["root_key"], length=32, what="root_key")
        code = fingerprint(group_id, root)
        if expected_fingerprint is not None and " ".join(expected_fingerprint.split()) != code:
            raise TrustError("the group's root key does not match the fingerprint you were given")
        if pinned is not None and pinned != root:
            raise TrustError("the group's root key changed since you pinned it")
        self.state.set_secret(f"root-pin:{group_id}", root)
        roster = await self.roster(group_id)
        await self._certify_self(group_id, roster)
        self._save()
        return code

    async def _certify_self(self, group_id: uuid.UUID, roster: Roster) -> None:
        profile, keystore = self.state.require()
        if roster.device(keystore.device_id) is not None:
            return
        member = roster.members.get(uuid.UUID(profile.user_id))
        if member is None:
            raise TrustError("you are not certified in this group's log yet; ask the coordinator")
        if keystore.member_key is None or public_bytes(keystore.member_key) != member.member_key:
            raise TrustError(
                "this device is not certified: show its link code (`cordon device link-code`) "
                "to your first device and link it there (`cordon device link`)"
            )
        writer = LogWriter(group_id, list(roster.entries))
        entry = writer.add_device(
            keystore.member_key,
            member.member_id,
            keystore.device_id,
            public_bytes(keystore.signing_key),
            now_ms(),
        )
        await self._append(group_id, entry, writer)
        await self.roster(group_id)

    async def add_member(
        self,
        group_id: uuid.UUID,
        user: uuid.UUID | str,
        role: str = "member",
        *,
        member_fingerprint: str | None = None,
    ) -> str:
        """As coordinator: certify a member key in the signed log, bound out of band.

        By default the key must come from a join request whose MAC verifies under an
        invitation this device issued (`invite`); `user` is the username or user id.
        `member_fingerprint` is the explicit fallback: the safety number or QR payload of the
        member key, compared with the member out of band (`user` must then be the user id).

        Returns:
            Which binding was used: "invitation" or "fingerprint".

        Raises:
            BindingError: no bound key (no join request answering an invitation of this
                device, a MAC that does not cover the served key, or a fingerprint mismatch).
        """
        root = self._coordinator_key(group_id)
        if member_fingerprint is not None:
            if not isinstance(user, uuid.UUID):
                raise BindingError("the fingerprint fallback needs the member's user id")
            # The server lists member keys of members only: add first, take it back on a
            # mismatch (nothing was signed).
            user_id, added = user, await self._add_on_server(group_id, user, role)
            try:
                member_key = await self._directory_member_key(group_id, user_id)
                check_member_fingerprint(user_id, member_key, member_fingerprint)
            except Exception:  # any refusal: nothing was signed, so nothing stays
                if added:
                    await self._call("DELETE", f"/api/v1/groups/{group_id}/members/{user_id}")
                raise
            binding, invitation_id = "fingerprint", None
        else:
            user_id, member_key, invitation_id = await self._bound_join_request(group_id, user)
            binding = "invitation"
            await self._add_on_server(group_id, user_id, role)
        log_role = "coordinator" if role == "coordinator" else "member"
        writer = await self._verified_writer(group_id)
        await self._append(
            group_id, writer.add_member(root, user_id, member_key, log_role, now_ms()), writer
        )
        if invitation_id is not None:
            await self._call(
                "DELETE", f"/api/v1/groups/{group_id}/invitations/{b64e(invitation_id)}"
            )
            loghead.drop_invitation(self.state, group_id, invitation_id)
        await self.roster(group_id)
        self._save()
        return binding

    async def join_requests(self, group_id: uuid.UUID) -> list[dict[str, Any]]:
        """Pending join requests as the server lists them (unverified until `add_member`)."""
        return list(await self._call("GET", f"/api/v1/groups/{group_id}/join-requests"))

    async def admit_all(self, group_id: uuid.UUID, role: str = "member") -> list[tuple[str, str]]:
        """As coordinator: certify every pending join request whose MAC verifies under an
        invitation of this device; returns (username, outcome) per request."""
        out: list[tuple[str, str]] = []
        for request in await self.join_requests(group_id):
            name = str(request["username"])
            try:
                await self.add_member(group_id, uuid.UUID(request["user_id"]), role)
                out.append((name, "added (invitation)"))
            except BindingError as exc:
                out.append((name, f"refused: {exc.reason}"))
        return out

    async def _bound_join_request(
        self, group_id: uuid.UUID, user: uuid.UUID | str
    ) -> tuple[uuid.UUID, bytes, bytes]:
        """The member key of `user`'s join request, after checking its MAC and invitation."""
        wanted = [
            r
            for r in await self.join_requests(group_id)
            if (r["user_id"] if isinstance(user, uuid.UUID) else r["username"]) == str(user)
        ]
        if not wanted:
            raise BindingError(
                f"no join request from {user}: send them an invitation (`cordon group invite`), "
                "or compare their safety number and pass it with --fingerprint"
            )
        failure: BindingError | None = None
        for request in wanted:
            issued = loghead.issued_invitation(self.state, group_id, request["invitation_id"])
            if issued is None:
                failure = BindingError(
                    f"the join request from {user} answers an invitation this device did not issue"
                )
                continue
            if issued.for_user is not None and issued.for_user != request["username"]:
                failure = BindingError(
                    f"the invitation answered by {request['username']} was issued for "
                    f"{issued.for_user}"
                )
                continue
            if now_ms() - issued.created_ts > INVITATION_TTL_MS:
                failure = BindingError(f"the invitation {user} answered has expired")
                continue
            user_id = uuid.UUID(request["user_id"])
            key = b64d(request["member_key"], length=32, what="join request member_key")
            mac = b64d(request["mac"], length=32, what="join request mac")
            try:
                check_join_mac(issued.invitation, user_id, key, mac)
            except BindingError as exc:
                failure = exc
                continue
            return user_id, key, issued.invitation.invitation_id
        assert failure is not None
        raise failure

    async def _add_on_server(self, group_id: uuid.UUID, user_id: uuid.UUID, role: str) -> bool:
        """The server's membership record (who may fetch the group's ciphertext); False when
        the user already had one."""
        try:
            await self._call(
                "POST",
                f"/api/v1/groups/{group_id}/members",
                json={"user_id": str(user_id), "role": role},
            )
        except ApiError as exc:
            if exc.code != "group.already_member":
                raise
            return False
        return True

    async def _directory_member_key(self, group_id: uuid.UUID, user_id: uuid.UUID) -> bytes:
        keys = await self._call("GET", f"/api/v1/groups/{group_id}/member-keys")
        published = [k["member_key"] for k in keys if k["user_id"] == str(user_id)]
        if not published:
            raise TrustError("that user has not published a member key yet (they must log in)")
        return b64d(published[0], length=32, what="member_key")

    # -- devices (PROTOCOL §3.7) ----------------------------------------------------------

    def link_code(self) -> str:
        """This device's link code: shown on the new device, entered on the first one."""
        profile, keystore = self.state.require()
        return link_code(
            uuid.UUID(profile.user_id), keystore.device_id, public_bytes(keystore.signing_key)
        )

    async def certify_device(self, group_id: uuid.UUID, code: str) -> uuid.UUID:
        """From the device holding your member key, certify the device whose link code you
        entered, and only the signing key that code commits to."""
        profile, keystore = self.state.require()
        if keystore.member_key is None:
            raise TrustError("this device does not hold your member key")
        device_id, _ = parse_link_code(code)
        keys = await self._call("GET", f"/api/v1/groups/{group_id}/keys")
        mine = [
            k for k in keys if k["device_id"] == str(device_id) and k["user_id"] == profile.user_id
        ]
        if not mine:
            raise TrustError(f"device {device_id} is not one of yours in this group")
        device_key = b64d(mine[0]["signing_key"], length=32, what="signing_key")
        member_id = uuid.UUID(profile.user_id)
        check_link_code(code, member_id, device_id, device_key)
        writer = await self._verified_writer(group_id)
        if writer.entries and any(
            e.op == "add_device" and e.body["device_id"] == str(device_id) for e in writer.entries
        ):
            return device_id
        await self._append(
            group_id,
            writer.add_device(keystore.member_key, member_id, device_id, device_key, now_ms()),
            writer,
        )
        await self.roster(group_id)
        return device_id

    # -- rollback and forks (PROTOCOL §4.6, §4.7) --------------------------------------

    def log_head(self, group_id: uuid.UUID) -> tuple[int, str] | None:
        """The head this device verified last: (seq, epoch id in hex), to compare out of band."""
        tail = loghead.known_tail(self.state, group_id)
        return (tail[-1].seq, tail[-1].entry_hash().hex()) if tail else None

    def fork_report(self, group_id: uuid.UUID) -> dict[str, object] | None:
        """The recorded fork (reason and transferable proof) if the group is frozen here."""
        return loghead.fork_record(self.state, group_id)

    async def resolve_fork(self, group_id: uuid.UUID, confirmed_epoch: str) -> int:
        """Lift a freeze once your coordinator confirmed their current head (hex epoch id,
        at least 16 digits) out of band: the served log must end at exactly that head, which
        becomes this device's persisted head."""
        confirmed = confirmed_epoch.strip().lower()
        if len(confirmed) < 16:
            raise TrustError("give at least the first 16 hex digits of the confirmed epoch id")
        root = self.state.pinned_root(group_id)
        if root is None:
            raise TrustError("no trust root pinned for this group: join it first")
        roster = verify_log(root, group_id, await self._log_entries(group_id))
        if not roster.epoch_id.hex().startswith(confirmed):
            raise TrustError(
                f"the server's log head (seq {roster.head_seq}, epoch "
                f"{roster.epoch_id.hex()[:16]}) is not the head your coordinator confirmed: "
                "the group stays frozen; compare again"
            )
        loghead.unfreeze(self.state, group_id)
        loghead.forget_head(self.state, group_id)
        loghead.remember_head(self.state, roster)
        self._sessions.pop(group_id, None)
        self._save()
        return roster.head_seq

    async def remove_member(self, group_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """As coordinator: remove in the signed log first (no new keys reach them), then on
        the server (no more ciphertext reaches them)."""
        root = self._coordinator_key(group_id)
        writer = await self._verified_writer(group_id)
        await self._append(group_id, writer.remove_member(root, user_id, now_ms()), writer)
        await self._call("DELETE", f"/api/v1/groups/{group_id}/members/{user_id}")
        await self.roster(group_id)

    async def revoke_device(self, group_id: uuid.UUID, device_id: uuid.UUID) -> None:
        """Revoke one of your devices in the group's log and on the server."""
        profile, keystore = self.state.require()
        signer = self.state.root_key(group_id) or keystore.member_key
        if signer is None:
            raise TrustError("this device holds neither your member key nor a coordinator key")
        writer = await self._verified_writer(group_id)
        await self._append(
            group_id,
            writer.revoke_device(signer, uuid.UUID(profile.user_id), device_id, now_ms()),
            writer,
        )
        await self._call("POST", f"/api/v1/devices/{device_id}/revoke")

    async def members(self, group_id: uuid.UUID, *, reread: bool = True) -> list[GroupMember]:
        """The group's members: who is certified, with which role and devices, from the
        verified signed log; names, organisations and whether it is a service account (whose
        cases and messages members should read as a machine's) from the server's directory.

        `reread=False` takes the roster this client already read and verified to its head
        (PROTOCOL §4.5) if it has one, e.g. to name the senders of items just received,
        instead of fetching and verifying the whole log a second time.

        Returns:
            Certified members first, then users the server lists but the log does not (yet)
            certify (`certified=False`).
        """
        session = None if reread else self._sessions.get(group_id)
        roster = session.roster if session is not None else await self.roster(group_id)
        listing = await self._call("GET", f"/api/v1/groups/{group_id}/members")
        return merge(roster, listing)

    async def find_user(self, group_id: uuid.UUID, who: str) -> uuid.UUID:
        """The user id for a username, or a unique prefix of a user id: among the group's
        members and pending join requests first, then among every user the server lets this
        user see (`GET /users`: administrators see everyone, others their organisation), so a
        coordinator can `group add` someone by name before they are in the group.

        Only a name is resolved here, from the server's listings; whatever is then done with
        the id goes through the verified log as always.

        Raises:
            UnknownIdError: nobody matches, or a prefix matches more than one user.
        """
        candidates: dict[uuid.UUID, str] = {}
        for m in await self._call("GET", f"/api/v1/groups/{group_id}/members"):
            candidates[uuid.UUID(str(m["user_id"]))] = str(m.get("username") or "")
        with contextlib.suppress(ApiError):  # only coordinators may read join requests
            for r in await self.join_requests(group_id):
                candidates.setdefault(uuid.UUID(r["user_id"]), str(r["username"]))
        try:
            return shortid.match(who, candidates, what="user")
        except UnknownIdError:
            if any(shortid.matches(who, candidates)):
                raise  # several in the group match: type more, whoever else exists
        for u in await self.visible_users():
            candidates.setdefault(uuid.UUID(str(u["id"])), str(u.get("username") or ""))
        return shortid.match(who, candidates, what="user")

    async def visible_users(self) -> list[dict[str, Any]]:
        """Every user the server lets this user see, page by page (`GET /users`)."""
        users: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": USERS_PAGE}
        while True:
            page = await self._call("GET", "/api/v1/users", params=params)
            users += page["items"]
            if not page.get("next_cursor"):
                return users
            params["cursor"] = page["next_cursor"]

    def _coordinator_key(self, group_id: uuid.UUID) -> Ed25519PrivateKey:
        root = self.state.root_key(group_id)
        if root is None:
            raise TrustError("only the device that opened the group's log can sign for it")
        return root

    async def roster(self, group_id: uuid.UUID) -> Roster:
        """Fetch the whole log, verify it from the pinned root against the persisted head
        (rollback and fork refused; a fork freezes the group), check that it certifies this
        device's own key only, and persist the new head."""
        loghead.check_not_frozen(self.state, group_id)
        root = self.state.pinned_root(group_id)
        if root is None:
            raise TrustError("no trust root pinned for this group: join it first")
        entries = await self._log_entries(group_id)
        try:
            roster = verify_log(
                root, group_id, entries, known_head=loghead.known_tail(self.state, group_id)
            )
        except ForkError as exc:
            loghead.freeze(self.state, group_id, exc.reason, exc.proof)
            self._sessions.pop(group_id, None)
            self._save()
            exc.reason += "; the group is frozen on this device until resolved"
            exc.args = (exc.reason,)
            raise
        _, keystore = self.state.require()
        check_own_device(roster, keystore.device_id, public_bytes(keystore.signing_key))
        loghead.remember_head(self.state, roster)
        session = self._sessions.get(group_id)
        if session is not None:
            session.update_roster(roster)
        return roster

    async def _session(self, group_id: uuid.UUID, *, refresh: bool = False) -> GroupSession:
        loghead.check_not_frozen(self.state, group_id)
        session = self._sessions.get(group_id)
        if session is not None and not refresh:
            return session
        roster = await self.roster(group_id)
        session = self._sessions.get(group_id)
        if session is None:
            _, keystore = self.state.require()
            session = GroupSession(
                roster=roster,
                device_id=keystore.device_id,
                signing_key=keystore.signing_key,
                prekeys=keystore.prekey_privates(),
                one_time_prekeys=self.one_time_prekeys(),
            )
            saved = self.state.secret(f"session:{group_id}")
            if saved:
                session.restore_state(saved)
            self._sessions[group_id] = session
        return session
