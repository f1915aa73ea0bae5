"""The default way a member enters a group in tests: invitation, join request, admission."""

import uuid
from pathlib import Path

import pyotp
from cordon_client._client import Cordon

from app.users.models import User
from tests import factories as f

PASSPHRASE = "keystore passphrase for tests"


async def admit(coord: Cordon, member: Cordon, gid: uuid.UUID, username: str) -> None:
    """The coordinator invites, the member answers, the coordinator certifies the bound key."""
    text = await coord.invite(gid, for_user=username)
    assert await member.request_join(text) == gid
    assert await coord.add_member(gid, username) == "invitation"


async def opened_group(
    base: str,
    tmp: Path,
    admin: tuple[User, str | None],
    coord: tuple[User, str | None],
    name: str,
) -> tuple[uuid.UUID, str]:
    """An active group `name` whose log its coordinator opened: the admin (logged in under
    `tmp/admin`) creates it for the coordinator (logged in under `tmp/coord`, left enrolled
    there with a fast keystore for the test's own commands). The id and the root's code."""
    (admin_u, admin_seed), (coord_u, coord_seed) = admin, coord
    assert admin_seed and coord_seed, "both users need TOTP (f.user(..., totp=True))"
    async with Cordon(tmp / "admin", PASSPHRASE, server=base, scrypt_n=2**14) as a:
        await a.login(admin_u.username, f.PASSWORD, pyotp.TOTP(admin_seed).now())
        async with Cordon(tmp / "coord", PASSPHRASE, server=base, scrypt_n=2**14) as c:
            await c.login(coord_u.username, f.PASSWORD, pyotp.TOTP(coord_seed).now())
            gid = await a.create_group(name, coordinator_id=coord_u.id)
            await c.set_group_status(gid, "active")
            return gid, await c.open_group_log(gid)
