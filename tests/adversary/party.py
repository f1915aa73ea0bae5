"""The honest side: users, devices and an opened group, set up through the real API.

Users are created with the test factories (as the e2e tests do); everything else goes through
the SDK against the real server: the admin opens the group, the coordinator opens its signed
log and admits members by invitation (`admit`), members join by comparing the root
fingerprint. Each device has its own
state directory; a device named in `proxied` talks through the rewriting proxy.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
from cordon_client._client import Cordon
from cordon_client.cli.main import app as cli_app
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner, Result

from app.users.models import User
from tests import factories as f
from tests.adversary.proxy import RewritingProxy
from tests.e2e.server import Server

PASSPHRASE = "keystore passphrase for tests"
SCRYPT_N = 2**14  # fast keystores: the harness attacks the protocol, not the passphrase KDF


@dataclass
class Party:
    """Creates users and their devices; remembers every client so one `close()` ends them."""

    server: Server
    proxy: RewritingProxy
    session: AsyncSession
    home: Path
    clients: list[Cordon] = field(default_factory=list)

    def base_for(self, proxied: bool) -> str:
        return self.proxy.base if proxied else self.server.base

    async def user(self, *, admin: bool = False) -> tuple[User, str | None]:
        """An enrolled user (TOTP on for administrators, as the server requires)."""
        return await f.user(self.session, admin=admin, totp=admin)

    async def device(
        self, user: User, name: str, *, seed: str | None = None, proxied: bool = False
    ) -> Cordon:
        """A new device of `user` logged in from its own state directory `home/name`."""
        client = Cordon(
            self.home / name, PASSPHRASE, server=self.base_for(proxied), scrypt_n=SCRYPT_N
        )
        self.clients.append(client)
        await client.login(user.username, f.PASSWORD, pyotp.TOTP(seed).now() if seed else None)
        return client

    async def group(
        self,
        members: tuple[str, ...] = ("alice", "bob"),
        *,
        proxied: tuple[str, ...] = ("alice",),
        joined: tuple[str, ...] | None = None,
        name: str = "Operation Harness",
    ) -> Group:
        """An active group with its signed log open. `members` are logged in; those in
        `joined` (default: all) are added and have joined; `proxied` names the devices that
        talk through the proxy ("coordinator" may be one of them)."""
        admin_u, admin_seed = await self.user(admin=True)
        coord_u, coord_seed = await f.user(self.session, totp=True)
        admin = await self.device(admin_u, "admin", seed=admin_seed)
        coordinator = await self.device(
            coord_u, "coordinator", seed=coord_seed, proxied="coordinator" in proxied
        )
        users = {m: (await self.user())[0] for m in members}
        clients = {m: await self.device(u, m, proxied=m in proxied) for m, u in users.items()}
        gid = await admin.create_group(name, coordinator_id=coord_u.id)
        await coordinator.set_group_status(gid, "active")
        code = await coordinator.open_group_log(gid)
        for m in members if joined is None else joined:
            await self.admit(coordinator, clients[m], gid, users[m].username)
            await clients[m].join_group(gid, expected_fingerprint=code)
        return Group(gid, code, admin, coordinator, coord_u, users, clients)

    @staticmethod
    async def admit(coordinator: Cordon, member: Cordon, gid: uuid.UUID, username: str) -> None:
        """The default way in (PROTOCOL §3.5): an invitation, the member's join request, and
        the coordinator certifying the key its MAC binds."""
        assert await member.request_join(await coordinator.invite(gid, for_user=username)) == gid
        assert await coordinator.add_member(gid, username) == "invitation"

    async def cli(self, name: str, *, proxied: bool = False) -> Cli:
        """The `cordon` CLI on the state directory `home/name`. An open SDK client of that
        directory is closed first (its state saved) so the CLI alone owns the state; do not
        use that SDK object afterwards."""
        directory = self.home / name
        for client in [c for c in self.clients if c.state.directory == directory]:
            self.clients.remove(client)
            await client.aclose()
        return Cli(directory, self.base_for(proxied))

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()
        self.clients.clear()


@dataclass
class Cli:
    """One device driven through the `cordon` CLI, in-process with typer's runner in a thread
    (each command runs its own event loop, as from a shell)."""

    home: Path
    server: str

    async def run(self, *args: str, ok: bool = True, stdin: str | None = None) -> Result:
        """`cordon ARGS`; with `ok`, a non-zero exit fails the test with the output."""
        env = {
            "CORDON_HOME": str(self.home),
            "CORDON_PASSPHRASE": PASSPHRASE,
            "CORDON_SERVER": self.server,
            "COLUMNS": "250",
        }
        result = await asyncio.to_thread(CliRunner().invoke, cli_app, list(args), stdin, env)
        if ok:
            assert result.exit_code == 0, result.output + repr(result.exception)
        return result


@dataclass
class Group:
    """An opened group: its id, root fingerprint, and the clients of everyone in it."""

    id: uuid.UUID
    code: str
    admin: Cordon
    coordinator: Cordon
    coordinator_user: User
    users: dict[str, User]
    clients: dict[str, Cordon]

    def __getitem__(self, name: str) -> Cordon:
        """A member's client by name (`group["alice"]`), or "coordinator"."""
        return self.coordinator if name == "coordinator" else self.clients[name]

    def device_id(self, name: str) -> uuid.UUID:
        """The device id of a member's client."""
        return uuid.UUID(self[name].state.require()[0].device_id)
