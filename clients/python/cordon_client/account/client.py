"""The client's base layer: HTTP transport with problem-code errors, local state, account.

Logging in creates this device's keys on first use, registers their public halves and keeps the
private halves and the token in the encrypted keystore. A service account logs in with its
credential instead of a password (`login_with_credential`); a client given the credential
renews its short-lived token by itself (docs/operations.md#service-accounts).
"""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from cordon_client.account.state import LocalState, Profile
from cordon_client.account.unlock import UnlockFile
from cordon_client.crypto import (
    GroupSession,
    KeystoreData,
    public_bytes,
)
from cordon_client.crypto._encoding import b64e
from cordon_client.crypto.prekeys import (
    LEDGER_SECRET,
    ONE_TIME_BATCH,
    REPLENISH_BELOW,
    ClaimLedger,
    OneTimePrekeyStore,
)
from cordon_client.exceptions import (
    ApiError,
    CordonClientError,
    CryptoError,
)


def tls_for(server: str) -> ssl.SSLContext | bool:
    """Certificate checks for an https server (the CA bundle, loaded per process). A plain
    http server needs no TLS, and redirects are not followed, so no TLS connection is made: it
    gets a context that trusts no CA at all (any TLS would fail closed) instead of paying for
    loading the bundle (~50 ms a command)."""
    if server.lower().startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


def now_ms() -> int:
    """Protocol timestamps: integer milliseconds since the epoch."""
    return int(time.time() * 1000)


TOKEN_EXPIRES = "token-expires"  # keystore secret: when the held token ends (ISO 8601)
RENEW_BEFORE_SECONDS = 300  # a credential buys a new token this long before the old one ends


class AccountClient:
    """Transport, local state and the account: the base the other client layers build on."""

    def __init__(
        self,
        state_dir: Path,
        passphrase: str | Callable[[], str],
        *,
        server: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        scrypt_n: int | None = None,
        credential: str | None = None,
        unlock: UnlockFile | None = None,
    ) -> None:
        self.state = LocalState(state_dir, passphrase, scrypt_n=scrypt_n, unlock=unlock)
        self.credential = credential  # a service account's: renews the token when due
        base = server or (self.state.profile.server if self.state.profile else None)
        if base is None:
            raise CordonClientError("no server URL: pass server= or log in first")
        self.server = base.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.server, transport=transport, timeout=30, verify=tls_for(self.server)
        )
        self._sessions: dict[uuid.UUID, GroupSession] = {}
        self._one_time: OneTimePrekeyStore | None = None
        self._ledger: ClaimLedger | None = None
        self.prekey_refusals: list[CryptoError] = []  # served one-time prekeys refused

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Persist state and close the connection pool."""
        self._save()
        await self._http.aclose()

    # -- transport ---------------------------------------------------------------------

    async def _call(self, method: str, path: str, *, auth: bool = True, **kw: Any) -> Any:
        """One API call; a problem document becomes an ApiError carrying its stable code.
        With a credential, a token due to end is renewed first, and a call refused for an
        ended token (refused whole: nothing was done) is renewed and sent once more."""
        if not auth:
            response = await self._http.request(method, path, **kw)
        else:
            if self.credential is not None and self._token_due():
                await self._renew()
            response = await self._http.request(method, path, headers=self._auth(), **kw)
            if response.status_code == 401 and self.credential is not None:
                await self._renew()
                response = await self._http.request(method, path, headers=self._auth(), **kw)
        ApiError.raise_for(response)
        return response.json() if response.content else None

    def _auth(self) -> dict[str, str]:
        token = self.state.token
        if token is None:
            raise CordonClientError("not logged in: run `cordon login` first")
        return {"Authorization": f"Bearer {token}"}

    def _token_due(self) -> bool:
        """No token, or one that ends within `RENEW_BEFORE_SECONDS`."""
        if self.state.keystore is None or self.state.token is None:
            return True
        raw = self.state.secret(TOKEN_EXPIRES)
        if raw is None:
            return False  # a person's token: the server says when it has ended
        left = datetime.fromisoformat(raw.decode()) - datetime.now(UTC)
        return left.total_seconds() < RENEW_BEFORE_SECONDS

    async def _renew(self) -> None:
        """A fresh token for this device, bought with the credential."""
        assert self.credential is not None
        if self.state.keystore is None:
            raise CordonClientError(
                "no device enrolled here yet: run `cordon --credential-file FILE login` first"
            )
        await self.login_with_credential(self.credential)

    # -- account -------------------------------------------------------------------------

    async def enrol(self, code: str, password: str, totp_code: str | None = None) -> dict[str, Any]:
        """Redeem a one-time enrolment code and set the password."""
        body = {"code": code, "password": password, "totp_code": totp_code}
        return dict(
            await self._call("POST", "/api/v1/auth/enrolment/complete", auth=False, json=body)
        )

    async def inspect_enrolment(self, code: str) -> dict[str, Any]:
        """Who a code enrols, and the TOTP seed to load when the account requires TOTP."""
        return dict(
            await self._call(
                "POST", "/api/v1/auth/enrolment/inspect", auth=False, json={"code": code}
            )
        )

    async def login(
        self,
        username: str,
        password: str,
        totp_code: str | None = None,
        device_name: str = "cordon-python",
    ) -> Profile:
        """Log in; the first login here creates this device's keys and registers them."""
        body: dict[str, Any] = {"username": username, "password": password, "totp_code": totp_code}
        return await self._login("/api/v1/auth/login", body, device_name)

    async def login_with_credential(
        self, credential: str, device_name: str = "cordon-service"
    ) -> Profile:
        """Log in as a service account with its credential: no password, no TOTP, a token
        of about an hour. The first login here creates this device's keys (on this machine)
        and registers them; later ones reuse the device.

        Raises:
            ApiError: `service_account.invalid_credential` when the credential is wrong or
                the account was revoked.
        """
        body: dict[str, Any] = {"credential": credential}
        return await self._login("/api/v1/service-accounts/login", body, device_name)

    async def _login(self, path: str, body: dict[str, Any], device_name: str) -> Profile:
        fresh = self.state.keystore is None
        signing = Ed25519PrivateKey.generate() if fresh else self.state.keystore.signing_key  # type: ignore[union-attr]
        if fresh:
            exchange = X25519PrivateKey.generate().public_key().public_bytes_raw()
            body["device"] = {
                "name": device_name,
                "signing_key": b64e(public_bytes(signing)),
                "exchange_key": b64e(exchange),
            }
        else:
            body["device_id"] = self.state.profile.device_id  # type: ignore[union-attr]
        data = await self._call("POST", path, auth=False, json=body)
        device_id = uuid.UUID(data["device_id"])
        if fresh:
            self.state.keystore = KeystoreData(device_id, signing, Ed25519PrivateKey.generate())
        user = data["user"]
        self.state.profile = Profile(self.server, user["username"], user["id"], str(device_id))
        self.state.set_secret("token", data["access_token"].encode())
        service = bool(user.get("is_service"))
        self.state.set_secret(TOKEN_EXPIRES, data["expires_at"].encode() if service else None)
        self._save()
        await self.publish_keys()
        return self.state.profile

    async def logout(self) -> None:
        """Revoke this device's token on the server and forget it locally."""
        await self._call("POST", "/api/v1/auth/logout")
        self.state.set_secret("token", None)
        self._save()
        self.state.lock()

    async def create_service_account(
        self,
        username: str,
        *,
        group_ids: list[uuid.UUID],
        operations: list[str],
        display_name: str | None = None,
        organisation_id: uuid.UUID | None = None,
    ) -> tuple[dict[str, Any], str]:
        """As an administrator or NCP: create a service account scoped to groups and
        operations (`cases.post`, `prenotifications.send`, `library.read`,
        `library.publish`), in your own organisation unless another is named.

        Returns:
            The account as the server lists it, and its credential: shown this once, the
            server keeps only a digest of it.

        Raises:
            ApiError: `service_account.management_denied` for anyone else,
                `user.username_taken`, `core.invalid_input` naming a bad field.
        """
        if organisation_id is None:
            me = await self._call("GET", "/api/v1/users/me")
            organisation_id = uuid.UUID(me["organisation_id"])
        body = {
            "organisation_id": str(organisation_id),
            "username": username,
            "display_name": display_name or username,
            "operations": operations,
            "group_ids": [str(g) for g in group_ids],
        }
        data = await self._call("POST", "/api/v1/service-accounts", json=body)
        return dict(data["service_account"]), str(data["credential"])

    async def service_accounts(self) -> list[dict[str, Any]]:
        """The service accounts you manage (all for an administrator, an NCP's
        organisation's), revoked ones included."""
        return list(await self._call("GET", "/api/v1/service-accounts"))

    async def revoke_service_account(self, account: str | uuid.UUID) -> dict[str, Any]:
        """Revoke a service account by username or id: its credential stops working, its
        tokens end and its live connections close at once."""
        if not isinstance(account, uuid.UUID):
            found = [a for a in await self.service_accounts() if a["username"] == account]
            if not found:
                raise CordonClientError(f"no service account named {account} that you manage")
            account = uuid.UUID(found[0]["user_id"])
        return dict(await self._call("POST", f"/api/v1/service-accounts/{account}/revoke"))

    async def change_password(self, current: str, new: str, totp_code: str | None = None) -> int:
        """Change the password, proven by the current one (and a TOTP code when TOTP is on).

        Every other session of the account ends (its tokens stop working, its sockets close);
        this one goes on.

        Returns:
            How many other sessions were ended.

        Raises:
            ApiError: `auth.invalid_credentials` for a wrong current password,
                `auth.totp_required` / `auth.invalid_totp`, `auth.throttled` after too many.
        """
        body = {"current_password": current, "new_password": new, "totp_code": totp_code}
        data = await self._call("POST", "/api/v1/auth/password", json=body)
        self.state.lock()  # whoever changes the password starts again from the passphrase
        return int(data["revoked"])

    async def publish_keys(self) -> None:
        """Rotate and upload the signed prekey when due, top up the one-time prekeys, publish
        the member key once. (Old signed prekeys are deleted only after a sync: `receive`.)"""
        _, keystore = self.state.require()
        await self._rotate_signed_prekey(now_ms())
        await self._replenish_one_time_prekeys()
        if keystore.member_key is not None and not self.state.secret("member-key-published"):
            try:
                await self._call(
                    "PUT",
                    "/api/v1/devices/me/member-key",
                    json={"member_key": b64e(public_bytes(keystore.member_key))},
                )
            except ApiError as exc:
                if exc.code != "keys.member_key_exists":
                    raise
                keystore.member_key = None  # another device of this user holds the member key
            self.state.set_secret("member-key-published", b"1")
        self._save()

    async def _rotate_signed_prekey(self, now: int) -> bool:
        """Make and upload a new signed prekey once the newest is six days old."""
        _, keystore = self.state.require()
        prekey = keystore.rotate_prekeys(now)
        if prekey is None:
            return False
        for session in self._sessions.values():
            session.prekeys = keystore.prekey_privates()
        self._save()  # the private half is on disk before anyone can seal to it
        await self._call("POST", "/api/v1/devices/me/prekeys", json={"prekey": prekey.to_json()})
        return True

    async def _replenish_one_time_prekeys(self) -> int:
        """Upload a batch of one-time prekeys when the server holds fewer than
        `REPLENISH_BELOW` (it reports the count); returns the count it holds afterwards."""
        _, keystore = self.state.require()
        stock = await self._call("GET", "/api/v1/devices/me/one-time-prekeys")
        count = int(stock["count"])
        room = min(ONE_TIME_BATCH, int(stock["max_batch"]), int(stock["max_stored"]) - count)
        if count >= REPLENISH_BELOW or room <= 0:
            return count
        keys = self.one_time_prekeys().generate(keystore.signing_key, keystore.device_id, room)
        self._save()  # private halves on disk before the public halves are served
        answer = await self._call(
            "POST",
            "/api/v1/devices/me/one-time-prekeys",
            json={"prekeys": [k.to_json() for k in keys]},
        )
        return int(answer["count"])

    def one_time_prekeys(self) -> OneTimePrekeyStore:
        """This device's one-time prekey private halves, kept in the keystore."""
        if self._one_time is None:
            _, keystore = self.state.require()
            self._one_time = OneTimePrekeyStore.load(keystore.secrets)
        return self._one_time

    def claim_ledger(self) -> ClaimLedger:
        """The newest one-time prekey this device has sealed to, per target device."""
        if self._ledger is None:
            raw = self.state.secret(LEDGER_SECRET)
            self._ledger = ClaimLedger.from_bytes(raw) if raw else ClaimLedger()
        return self._ledger

    def _save(self) -> None:
        if self.state.keystore is not None:
            if self._one_time is not None:
                self._one_time.save(self.state.keystore.secrets)
            if self._ledger is not None:
                self.state.set_secret(LEDGER_SECRET, self._ledger.to_bytes())
        for group_id, session in self._sessions.items():
            self.state.set_secret(f"session:{group_id}", session.export_state())
        if self.state.keystore is not None:
            self.state.save()
