"""Small async helpers that build state the way a client would: through the API where it
matters (login, membership), directly in the database where only the precondition matters."""

import base64
import time
import uuid
from dataclasses import dataclass, field

import httpx
import pyotp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import hash_password, seal_secret
from app.organisations.models import Organisation
from app.users.models import User
from tests.conftest import TEST_SECRET

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2id is slow on purpose


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def new_device(name: str = "laptop") -> tuple[dict[str, str], Ed25519PrivateKey]:
    """Fresh device keys: the public halves a client submits, and its private signing key."""
    signing = Ed25519PrivateKey.generate()
    exchange = X25519PrivateKey.generate().public_key().public_bytes_raw()
    body = {
        "name": name,
        "signing_key": b64(signing.public_key().public_bytes_raw()),
        "exchange_key": b64(exchange),
    }
    return body, signing


def device_keys(name: str = "laptop") -> dict[str, str]:
    """Fresh public keys, as a client would generate and submit them."""
    return new_device(name)[0]


@dataclass
class Actor:
    """A logged-in user with one device."""

    user: User
    token: str
    device_id: str
    totp_seed: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    signing_key: Ed25519PrivateKey | None = None

    @property
    def id(self) -> str:
        return str(self.user.id)


async def organisation(
    session: AsyncSession, name: str | None = None, country: str = "BE", region: str = "EUR"
) -> Organisation:
    org = Organisation(
        name=name or f"Org {uuid.uuid4().hex[:8]}", country_code=country, region=region
    )
    session.add(org)
    await session.commit()
    return org


async def user(
    session: AsyncSession,
    *,
    org: Organisation | None = None,
    username: str | None = None,
    admin: bool = False,
    ncp: bool = False,
    totp: bool = False,
) -> tuple[User, str | None]:
    """A user who has already enrolled (password set), optionally with TOTP on."""
    org = org or await organisation(session)
    seed = pyotp.random_base32() if totp else None
    u = User(
        organisation_id=org.id,
        username=username or f"u{uuid.uuid4().hex[:10]}",
        display_name="Test Officer",
        platform_role="admin" if admin else "user",
        is_ncp=ncp,
        password_hash=_PASSWORD_HASH,
        totp_sealed=seal_secret(TEST_SECRET, seed) if seed else None,
        totp_enabled=totp,
    )
    session.add(u)
    await session.commit()
    return u, seed


def totp_now(seed: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(seed).at(time.time() + 30 * offset_steps)


async def login(client: httpx.AsyncClient, u: User, seed: str | None = None) -> Actor:
    """Log in through the API with a new device."""
    body: dict[str, object] = {
        "username": u.username,
        "password": PASSWORD,
    }
    body["device"], signing_key = new_device()
    if seed:
        body["totp_code"] = totp_now(seed)
    r = await client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 200, r.text
    data = r.json()
    return Actor(
        user=u,
        token=data["access_token"],
        device_id=data["device_id"],
        totp_seed=seed,
        headers={"Authorization": f"Bearer {data['access_token']}"},
        signing_key=signing_key,
    )


async def actor(client: httpx.AsyncClient, session: AsyncSession, **kwargs: object) -> Actor:
    u, seed = await user(session, **kwargs)  # type: ignore[arg-type]
    return await login(client, u, seed)


@dataclass
class GroupSetup:
    """A group with one actor per role, plus an outsider."""

    group_id: str
    coordinator: Actor
    member: Actor
    observer: Actor
    outsider: Actor
    co_coordinator: Actor


async def group_with_roles(
    client: httpx.AsyncClient, session: AsyncSession, name: str | None = None
) -> GroupSetup:
    """Create, through the API, an active group holding every role."""
    admin = await actor(client, session, admin=True, totp=True)
    coordinator = await actor(client, session, totp=True)
    r = await client.post(
        "/api/v1/groups",
        headers=admin.headers,
        json={
            "name": name or f"Operation {uuid.uuid4().hex[:8]}",
            "coordinator_id": coordinator.id,
        },
    )
    assert r.status_code == 201, r.text
    group_id = r.json()["id"]
    roles = {}
    for role in ("member", "observer", "co_coordinator"):
        a = await actor(client, session)
        r = await client.post(
            f"/api/v1/groups/{group_id}/members",
            headers=coordinator.headers,
            json={"user_id": a.id, "role": role},
        )
        assert r.status_code == 201, r.text
        roles[role] = a
    r = await client.post(
        f"/api/v1/groups/{group_id}/status", headers=coordinator.headers, json={"status": "active"}
    )
    assert r.status_code == 200, r.text
    return GroupSetup(
        group_id=group_id,
        coordinator=coordinator,
        member=roles["member"],
        observer=roles["observer"],
        co_coordinator=roles["co_coordinator"],
        outsider=await actor(client, session),
    )


async def archive(client: httpx.AsyncClient, g: GroupSetup) -> None:
    """Take an active group through closed to archived (read-only) as its coordinator."""
    for status in ("closed", "archived"):
        r = await client.post(
            f"/api/v1/groups/{g.group_id}/status",
            headers=g.coordinator.headers,
            json={"status": status},
        )
        assert r.status_code == 200, r.text


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """The response is an RFC 9457 problem document with the given status and stable code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body
