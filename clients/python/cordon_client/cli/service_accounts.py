"""`cordon service-account create|list|revoke`: machine credentials for national systems,
managed by administrators and NCPs (docs/operations.md#service-accounts)."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cordon_client._client import Cordon
from cordon_client.cli import common as common

OPERATIONS = ("cases.post", "prenotifications.send", "library.read", "library.publish")
service_account_app = typer.Typer(
    help="Service accounts: scoped machine credentials (administrators and NCPs).",
    no_args_is_help=True,
)


def _write_once(path: Path, secret: str) -> None:
    """Create the file readable by its owner only; never overwrite one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        common.fail(f"{path} exists: choose another file (a credential is never overwritten)")
    except OSError as exc:
        common.fail(f"cannot write {path}: {exc.strerror}")
    with os.fdopen(fd, "w") as fh:
        fh.write(secret + "\n")


@service_account_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="The account's username.", show_default=False)],
    group: Annotated[
        list[uuid.UUID],
        typer.Argument(help="The group(s) it is scoped to.", show_default=False),
    ],
    operation: Annotated[
        list[str],
        typer.Option(help=f"Operation it may perform (repeatable): {', '.join(OPERATIONS)}."),
    ],
    display_name: Annotated[str | None, typer.Option(help="What the account is for.")] = None,
    organisation: Annotated[
        uuid.UUID | None, typer.Option(help="Organisation id (default: yours).")
    ] = None,
    credential_file: Annotated[
        Path | None,
        typer.Option(
            help="Write the credential to this new file (mode 0600) instead of printing it."
        ),
    ] = None,
) -> None:
    """Create a service account; its credential is shown (or written) this once only."""
    unknown = [op for op in operation if op not in OPERATIONS]
    if unknown:
        common.fail(f"--operation {unknown[0]}: not one of {', '.join(OPERATIONS)}")
    if credential_file is not None and credential_file.exists():
        common.fail(f"{credential_file} exists: choose another file")

    async def work(cordon: Cordon) -> tuple[dict[str, Any], str]:
        return await cordon.create_service_account(
            username,
            group_ids=group,
            operations=operation,
            display_name=display_name,
            organisation_id=organisation,
        )

    account, credential = common.run(work)
    out = common.console()
    out.print(
        f"service account {escape(account['username'])} (user {account['user_id']}): "
        f"{', '.join(account['operations'])} in {len(account['group_ids'])} group(s)"
    )
    if credential_file is not None:
        _write_once(credential_file, credential)
        out.print(f"credential written to {escape(str(credential_file))} (shown nowhere else)")
    else:
        out.print(f"credential (shown once): {credential}")
    out.print(f"next: the coordinator runs `cordon group invite GROUP --for {escape(username)}`")


@service_account_app.command("list")
def list_accounts(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The service accounts you manage, with their scope and state."""
    found = common.run(lambda cordon: cordon.service_accounts())
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    table = Table("username", "operations", "groups", "last used", "state")
    for a in found:
        table.add_row(
            escape(a["username"]),
            " ".join(a["operations"]),
            str(len(a["group_ids"])),
            (a["last_used_at"] or "never")[:16].replace("T", " "),
            "revoked" if a["revoked_at"] else "active",
        )
    common.console().print(table)


@service_account_app.command("revoke")
def revoke(
    account: Annotated[str, typer.Argument(help="Username (or user id).", show_default=False)],
) -> None:
    """Revoke a service account: its credential stops working and its sessions end now."""
    target: str | uuid.UUID = account
    with contextlib.suppress(ValueError):
        target = uuid.UUID(account)
    revoked = common.run(lambda cordon: cordon.revoke_service_account(target))
    common.console().print(f"revoked {escape(revoked['username'])}; its sessions have ended")
