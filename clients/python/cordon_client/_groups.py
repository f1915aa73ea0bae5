"""The client's trust layer: groups, the signed membership log, pinned roots, rosters.

Every roster the client acts on is verified from the root it pinned (after an out-of-band
fingerprint check); the server's directory is only a source of candidates.
"""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cordon_client._account import AccountClient, now_ms
from cordon_client._crypto import (
    GroupSession,
    LogEntry,
    LogWriter,
    Roster,
    fingerprint,
    public_bytes,
    qr_payload,
    verify_log,
)
from cordon_client._crypto._encoding import b64d
from cordon_client.exceptions import (
    ApiError,
    TrustError,
)


class GroupsClient(AccountClient):
    """Groups and the signed log, on top of the account layer."""

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
        data = await self._call("GET", f"/api/v1/groups/{group_id}/log")
        return [LogEntry.from_json(item["entry"]) for item in data["items"]]

    async def _append(self, group_id: uuid.UUID, entry: LogEntry) -> None:
        await self._call("POST", f"/api/v1/groups/{group_id}/log", json={"entry": entry.to_json()})

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
        self._save()
        return fingerprint(group_id, public_bytes(root))

    def fingerprint(self, group_id: uuid.UUID) -> tuple[str, str]:
        """The pinned root's comparison code and QR payload, for out-of-band checks."""
        root = self.state.pinned_root(group_id)
        if root is None:
            raise TrustError("no trust root pinned for this group: join it first")
        return fingerprint(group_id, root), qr_payload(group_id, root)

    async def join_group(self, group_id: uuid.UUID, expected_fingerprint: str | None = None) -> str:
        """Pin the group's root (checking the out-of-band fingerprint when given) and certify
        this device with your member key once the coordinator has certified you."""
        entries = await self._log_entries(group_id)
        if not entries or entries[0].op != "genesis":
            raise TrustError("the group's log has not been opened by its coordinator yet")
        root = b64d(entries[0].body["root_key"], length=32, what="root_key")
        code = fingerprint(group_id, root)
        if expected_fingerprint is not None and " ".join(expected_fingerprint.split()) != code:
            raise TrustError("the group's root key does not match the fingerprint you were given")
        pinned = self.state.pinned_root(group_id)
        if pinned is not None and pinned != root:
            raise TrustError("the group's root key changed since you pinned it")
        self.state.set_secret(f"root-pin:{group_id}", root)
        roster = verify_log(root, group_id, entries)
        await self._certify_self(group_id, roster, entries)
        self._save()
        return code

    async def _certify_self(
        self, group_id: uuid.UUID, roster: Roster, entries: list[LogEntry]
    ) -> None:
        profile, keystore = self.state.require()
        if roster.device(keystore.device_id) is not None:
            return
        member = roster.members.get(uuid.UUID(profile.user_id))
        if member is None:
            raise TrustError("you are not certified in this group's log yet; ask the coordinator")
        if keystore.member_key is None or public_bytes(keystore.member_key) != member.member_key:
            raise TrustError("certify this device from your first device (`certify_device`)")
        entry = LogWriter(group_id, entries).add_device(
            keystore.member_key,
            member.member_id,
            keystore.device_id,
            public_bytes(keystore.signing_key),
            now_ms(),
        )
        await self._append(group_id, entry)

    async def certify_device(self, group_id: uuid.UUID, device_id: uuid.UUID) -> None:
        """From a device holding your member key, certify another of your own devices."""
        profile, keystore = self.state.require()
        if keystore.member_key is None:
            raise TrustError("this device does not hold your member key")
        keys = await self._call("GET", f"/api/v1/groups/{group_id}/keys")
        mine = [
            k for k in keys if k["device_id"] == str(device_id) and k["user_id"] == profile.user_id
        ]
        if not mine:
            raise TrustError("that device is not one of yours in this group")
        entries = await self._log_entries(group_id)
        entry = LogWriter(group_id, entries).add_device(
            keystore.member_key,
            uuid.UUID(profile.user_id),
            device_id,
            b64d(mine[0]["signing_key"], length=32, what="signing_key"),
            now_ms(),
        )
        await self._append(group_id, entry)

    async def add_member(
        self,
        group_id: uuid.UUID,
        user_id: uuid.UUID,
        role: str = "member",
        expected_member_key: bytes | None = None,
    ) -> None:
        """As coordinator: admit the user on the server and certify their member key in the log.

        The member key comes from the untrusted directory; pass `expected_member_key` (obtained
        out of band) to refuse a substituted key."""
        root = self._coordinator_key(group_id)
        try:
            await self._call(
                "POST",
                f"/api/v1/groups/{group_id}/members",
                json={"user_id": str(user_id), "role": role},
            )
        except ApiError as exc:
            if exc.code != "group.already_member":
                raise
        keys = await self._call("GET", f"/api/v1/groups/{group_id}/member-keys")
        published = [k["member_key"] for k in keys if k["user_id"] == str(user_id)]
        if not published:
            raise TrustError("that user has not published a member key yet (they must log in)")
        member_key = b64d(published[0], length=32, what="member_key")
        if expected_member_key is not None and member_key != expected_member_key:
            raise TrustError("the directory served a different member key than expected")
        log_role = "coordinator" if role == "coordinator" else "member"
        entries = await self._log_entries(group_id)
        await self._append(
            group_id,
            LogWriter(group_id, entries).add_member(root, user_id, member_key, log_role, now_ms()),
        )

    async def remove_member(self, group_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """As coordinator: remove in the signed log first (no new keys reach them), then on
        the server (no more ciphertext reaches them)."""
        root = self._coordinator_key(group_id)
        entries = await self._log_entries(group_id)
        await self._append(
            group_id, LogWriter(group_id, entries).remove_member(root, user_id, now_ms())
        )
        await self._call("DELETE", f"/api/v1/groups/{group_id}/members/{user_id}")

    async def revoke_device(self, group_id: uuid.UUID, device_id: uuid.UUID) -> None:
        """Revoke one of your devices in the group's log and on the server."""
        profile, keystore = self.state.require()
        signer = self.state.root_key(group_id) or keystore.member_key
        if signer is None:
            raise TrustError("this device holds neither your member key nor a coordinator key")
        entries = await self._log_entries(group_id)
        await self._append(
            group_id,
            LogWriter(group_id, entries).revoke_device(
                signer, uuid.UUID(profile.user_id), device_id, now_ms()
            ),
        )
        await self._call("POST", f"/api/v1/devices/{device_id}/revoke")

    def _coordinator_key(self, group_id: uuid.UUID) -> Ed25519PrivateKey:
        root = self.state.root_key(group_id)
        if root is None:
            raise TrustError("only the device that opened the group's log can sign for it")
        return root

    async def roster(self, group_id: uuid.UUID) -> Roster:
        """Fetch the group's log and verify it from the pinned root; remember its head."""
        root = self.state.pinned_root(group_id)
        if root is None:
            raise TrustError("no trust root pinned for this group: join it first")
        roster = verify_log(root, group_id, await self._log_entries(group_id))
        session = self._sessions.get(group_id)
        if session is not None:
            session.update_roster(roster)
        return roster

    async def _session(self, group_id: uuid.UUID, *, refresh: bool = False) -> GroupSession:
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
