"""`cordon-server`: serve, migrate, seed the demo and administer from the shell.

Administration commands run with the operator's authority (they open the database directly),
which is how the first administrator is bootstrapped before anyone can log in. A failure (a
refused setting, an unreachable database) is one line with a hint on stderr and exit status 1;
`--debug` shows the traceback. `main` is the installed script.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from app.core.codes import Region
from app.core.config import get_settings
from app.service_accounts.operations import Operation

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.core.config import Settings
    from app.demo.service import DemoAccount

# The database layer, the web stack and the password hasher are imported inside the commands
# that use them: `demo-totp` and `--help` need none of them (issue 12, "Speed").

app = typer.Typer(
    help="Cordon server administration.", no_args_is_help=True, pretty_exceptions_enable=False
)
console = Console()
T = TypeVar("T")


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure.")
    ] = False,
) -> None:
    """Cordon server administration."""


def _problem(exc: Exception) -> tuple[str, str]:
    """One line and a hint for a failure that escaped a command."""
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from app.core.errors import CordonError

    if isinstance(exc, ValidationError):
        reasons = []
        for err in exc.errors():
            where = "_".join(str(part) for part in err["loc"]).upper()
            reason = str(err["msg"]).removeprefix("Value error, ")
            reasons.append(reason if not where else f"CORDON_{where}: {reason}")
        return (
            f"invalid configuration: {'; '.join(reasons)}",
            "set it in the environment or in .env (README, Configuration)",
        )
    if isinstance(exc, CordonError):
        return f"{exc.code}: {exc.detail}", "see docs/operations.md"
    if isinstance(exc, SQLAlchemyError | OSError | ConnectionError):
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        return (
            f"cannot use the database: {reason}",
            "check CORDON_DATABASE_URL (and CORDON_REDIS_URL) and that the service is running",
        )
    return f"unexpected {type(exc).__name__}: {exc}", "run again with --debug for the traceback"


def _report(exc: Exception) -> None:
    """The failure as one line with a hint on stderr."""
    message, hint = _problem(exc)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    err.print(f"[red]error: {escape(message)} (hint: {escape(hint)})[/red]")


def main() -> None:
    """The `cordon-server` script: whatever escapes a command is one line on stderr, exit 1."""
    try:
        app()
    except Exception as exc:
        if "--debug" in sys.argv[1:]:
            raise
        _report(exc)
        raise SystemExit(1) from None


def _run(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run one unit of work in a session; a CordonError is reported as `main` reports any
    failure (one line, hint, stderr), with exit status 1."""
    import asyncio

    from pydantic import ValidationError

    from app.core.db import create_engine, create_sessionmaker
    from app.core.errors import CordonError

    settings = get_settings()

    async def main() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                return await work(session, settings)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except CordonError as exc:
        _report(exc)
        raise typer.Exit(1) from None
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        err.print(f"[red]error: invalid {escape(reasons)}[/red]")
        raise typer.Exit(1) from None


@app.command()
def migrate() -> None:
    """Apply database migrations up to head."""
    from app.core.migrate import upgrade

    upgrade(get_settings().database_url)
    console.print("database migrated to head")


def _print_demo(accounts: list[DemoAccount], host: str, port: int) -> None:
    from rich.table import Table

    from app.demo.accounts import DEMO_PASSWORD

    table = Table(title=f"Demo accounts (password: {DEMO_PASSWORD})")
    table.add_column("username", no_wrap=True, min_width=16)
    for column in ("name", "organisation", "role", "TOTP"):
        table.add_column(column)
    for a in accounts:
        table.add_row(a.username, a.display_name, a.organisation, a.role, "yes" if a.totp else "no")
    console.print(table)
    console.print(
        f"Log in: cordon --server http://{host}:{port} login USERNAME\n"
        "TOTP accounts: `cordon-server demo-totp` prints the current code.\n"
        f"API docs: http://{host}:{port}/docs"
    )


@app.command("seed-demo")
def seed_demo() -> None:
    """Seed the demo operation into an empty database (development only)."""
    from app.demo import service as demo_service

    async def work(session: AsyncSession, settings: Settings) -> list[DemoAccount]:
        if not settings.seed_demo:
            raise typer.BadParameter("CORDON_SEED_DEMO is false")
        if not await demo_service.is_empty(session):
            return []
        return await demo_service.seed(session, settings=settings)

    accounts = _run(work)
    if accounts:
        _print_demo(accounts, "127.0.0.1", 8000)
    else:
        console.print("database not empty: demo not seeded")


@app.command("demo-totp")
def demo_totp() -> None:
    """Print the current TOTP code of each demo account that has TOTP, labelled with it."""
    import pyotp

    from app.demo.accounts import DEMO_TOTP_SEED, DEMO_TOTP_USERNAMES

    if get_settings().environment == "production":
        raise typer.BadParameter("not available in production")
    code = pyotp.TOTP(DEMO_TOTP_SEED).at(time.time())
    for username in DEMO_TOTP_USERNAMES:
        console.print(f"{username}: {code}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes (needs PostgreSQL)")] = 1,
) -> None:
    """Migrate, seed the demo on an empty embedded database, then serve."""
    import uvicorn

    from app.core.migrate import upgrade
    from app.demo import service as demo_service

    settings = get_settings()
    upgrade(settings.database_url)

    async def work(session: AsyncSession, s: Settings) -> list[DemoAccount]:
        if s.seed_demo and await demo_service.is_empty(session):
            return await demo_service.seed(session, settings=s)
        return []

    accounts = _run(work)
    if accounts:
        _print_demo(accounts, host, port)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=False,  # the app decides whom to believe: CORDON_TRUSTED_PROXIES
        http="app.core.http_protocol:CordonHttpProtocol",
        ws="app.realtime.transport:CordonWebSocketProtocol",
        ws_per_message_deflate=False,
    )


@app.command("create-org")
def create_org(
    name: str,
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code")],
    region: Annotated[Region, typer.Option(help="WCO region")],
) -> None:
    """Register a member administration."""
    from app.organisations import service as organisations_service
    from app.organisations.schemas import OrganisationCreate

    async def work(session: AsyncSession, _: Settings) -> str:
        org = await organisations_service.create(
            session,
            organisation_in=OrganisationCreate(name=name, country_code=country, region=region),
        )
        return str(org.id)

    console.print(f"organisation {_run(work)}")


@app.command("create-user")
def create_user(
    username: str,
    organisation: Annotated[str, typer.Option(help="Organisation name")],
    display_name: Annotated[str, typer.Option(help="Full name")],
    admin: Annotated[bool, typer.Option(help="Make a platform administrator")] = False,
    ncp: Annotated[bool, typer.Option(help="National Contact Point of the organisation")] = False,
) -> None:
    """Create a user and print their one-time enrolment code."""
    from app.organisations import service as organisations_service
    from app.users import service as users_service
    from app.users.models import PlatformRole
    from app.users.schemas import UserCreate

    async def work(session: AsyncSession, settings: Settings) -> str:
        org = await organisations_service.get_by_name(session, name=organisation)
        _, issued = await users_service.create(
            session,
            settings=settings,
            actor=None,
            user_in=UserCreate(
                organisation_id=org.id,
                username=username,
                display_name=display_name,
                platform_role=PlatformRole.ADMIN if admin else PlatformRole.USER,
                is_ncp=ncp,
            ),
        )
        return issued.code

    console.print(f"enrolment code (shown once): {_run(work)}")


@app.command("enrolment-code")
def enrolment_code(username: str) -> None:
    """Issue a fresh enrolment code for an existing user (the old one stops working)."""
    from app.users import service as users_service

    async def work(session: AsyncSession, settings: Settings) -> str:
        user = await users_service.get_by_username(session, username=username)
        return (
            await users_service.issue_code(session, settings=settings, actor=None, user=user)
        ).code

    console.print(f"enrolment code (shown once): {_run(work)}")


@app.command("create-group")
def create_group(
    name: str,
    coordinator: Annotated[str, typer.Option(help="Username of the first coordinator")],
    description: Annotated[str, typer.Option(help="What the operation is")] = "",
) -> None:
    """Open a group and name its first coordinator (who must have TOTP enabled)."""
    from app.groups import service as groups_service
    from app.groups.schemas import GroupCreate
    from app.users import service as users_service

    async def work(session: AsyncSession, _: Settings) -> str:
        user = await users_service.get_by_username(session, username=coordinator)
        group = await groups_service.create(
            session,
            actor=None,
            group_in=GroupCreate(name=name, description=description, coordinator_id=user.id),
        )
        return str(group.id)

    console.print(f"group {_run(work)}")


service_accounts_app = typer.Typer(
    help="Service accounts: scoped machine credentials (docs/operations.md).",
    no_args_is_help=True,
)
app.add_typer(service_accounts_app, name="service-account")


@service_accounts_app.command("create")
def create_service_account(
    username: str,
    organisation: Annotated[str, typer.Option(help="Organisation name")],
    group: Annotated[list[str], typer.Option(help="Group name it is scoped to (repeatable)")],
    operation: Annotated[
        list[Operation], typer.Option(help="Operation it may perform (repeatable)")
    ],
    display_name: Annotated[str, typer.Option(help="What the account is for")] = "",
) -> None:
    """Create a service account and print its credential (shown once)."""
    from app.groups import service as groups_service
    from app.organisations import service as organisations_service
    from app.service_accounts import service as service_accounts_service
    from app.service_accounts.schemas import ServiceAccountCreate

    async def work(session: AsyncSession, settings: Settings) -> str:
        org = await organisations_service.get_by_name(session, name=organisation)
        groups = [await groups_service.get_by_name(session, name=name) for name in group]
        _, _, credential = await service_accounts_service.create(
            session,
            settings=settings,
            actor=None,
            account_in=ServiceAccountCreate(
                organisation_id=org.id,
                username=username,
                display_name=display_name or username,
                operations=operation,
                group_ids=[g.id for g in groups],
            ),
        )
        return credential

    console.print(f"credential (shown once): {_run(work)}", soft_wrap=True)


@service_accounts_app.command("list")
def list_service_accounts() -> None:
    """Every service account, its scope and whether it is revoked."""
    from rich.table import Table

    from app.service_accounts import service as service_accounts_service

    async def work(session: AsyncSession, _: Settings) -> list[tuple[str, str, str]]:
        found = await service_accounts_service.get_all(session, actor=None)
        return [
            (user.username, " ".join(row.operations), "revoked" if row.revoked_at else "active")
            for user, row in found
        ]

    table = Table("username", "operations", "state")
    for line in _run(work):
        table.add_row(*line)
    console.print(table)


@service_accounts_app.command("revoke")
def revoke_service_account(username: str) -> None:
    """Revoke a service account: its tokens end and its sockets close at once."""
    from app.service_accounts import service as service_accounts_service

    async def work(session: AsyncSession, _: Settings) -> None:
        user, row = await service_accounts_service.get_by_username(session, username=username)
        await service_accounts_service.revoke(session, user=user, row=row)

    _run(work)
    console.print(f"revoked {username}")


if __name__ == "__main__":
    main()
