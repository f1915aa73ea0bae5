"""`cordon library ls / versions / publish / get / withdraw`: a thin typer layer over the SDK.

Publishing wraps the document key end to end to every verified device of the group; `get`
verifies the manifest against the uploader's device in the verified roster and writes the file
under its final name only once the last segment authenticates. Both continue where an
interrupted run stopped when the same command is typed again.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from cordon_client._client import Cordon
from cordon_client.cli import common as common
from cordon_client.cli import ids
from cordon_client.cli.common import GroupArg
from cordon_client.cli.ids import DocumentArg
from cordon_client.cli.output import JsonFlag, print_json
from cordon_client.crypto.stream import CATEGORIES
from cordon_client.groups import shortid
from cordon_client.library.client import Downloaded, RemoteDocument

library_app = typer.Typer(
    help="The group's document library: ls, versions, publish, get, withdraw.",
    no_args_is_help=True,
)

Category = Annotated[str | None, typer.Option(help=", ".join(CATEGORIES))]
_RATE = re.compile(r"(\d+)([kKmM]?)")


def _rate(text: str | None) -> int | None:
    """`500K`, `2M` or bytes per second, as curl's --limit-rate takes it."""
    if text is None:
        return None
    match = _RATE.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise typer.BadParameter("a positive number of bytes per second, e.g. 500K or 2M")
    unit = {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2).lower()]
    return int(match.group(1)) * unit


LimitRate = Annotated[
    str | None,
    typer.Option(
        "--limit-rate",
        metavar="RATE",
        help="Cap the transfer at RATE bytes per second (K and M suffixes, e.g. 500K).",
    ),
]


def _say(text: str) -> None:
    common.console().print(text, highlight=False)


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=common.console(),
    )


@library_app.command("ls")
def list_documents(group: GroupArg, category: Category = None, as_json: JsonFlag = False) -> None:
    """List the group's documents (names stay encrypted until you `get` one); type a
    document by the id shown."""
    docs = common.run(lambda c: c.library_documents(group, category=category))
    if as_json:
        print_json([_document_json(doc) for doc in docs])
        return
    every = [doc.id for doc in docs]
    table = Table("document", "category", "version", "size", "published", "withdrawn")
    for doc in docs:
        table.add_row(
            shortid.short(doc.id, every),
            doc.category,
            str(doc.latest_version),
            str(doc.latest.size) if doc.latest else "-",
            doc.published_at.isoformat(timespec="seconds"),
            "yes" if doc.withdrawn else "",
        )
    common.console().print(table)


def _document_json(doc: RemoteDocument) -> dict[str, object]:
    return {
        "id": doc.id,
        "category": doc.category,
        "latest_version": doc.latest_version,
        "size": doc.latest.size if doc.latest else None,
        "published_at": doc.published_at,
        "withdrawn": doc.withdrawn,
    }


@library_app.command("versions")
def list_versions(group: GroupArg, document: DocumentArg, as_json: JsonFlag = False) -> None:
    """List every version of a document."""
    versions = common.run(lambda c: c.library_versions(group, document))
    if as_json:
        print_json(
            [
                {
                    "version": v.version,
                    "size": v.size,
                    "segments": v.segment_count,
                    "published_at": v.published_at,
                    "publisher_device_id": v.publisher_device_id,
                }
                for v in versions
            ]
        )
        return
    table = Table("version", "size", "segments", "published", "publisher device")
    for v in versions:
        table.add_row(
            str(v.version),
            str(v.size),
            str(v.segment_count),
            v.published_at.isoformat(timespec="seconds"),
            str(v.publisher_device_id or "-"),
        )
    common.console().print(table)


@library_app.command("publish")
def publish(
    group: GroupArg,
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    category: Category = None,
    document: Annotated[
        uuid.UUID | None,
        typer.Option(
            help="Publish a new version of this (id prefix or full id).",
            parser=ids.parser("document"),
        ),
    ] = None,
    version: Annotated[int, typer.Option(help="Version number (with --document).")] = 1,
    limit_rate: LimitRate = None,
) -> None:
    """Encrypt and publish a file; its key goes end to end to the group's devices.

    Interrupted? Type the same command again: it continues with the segments the server
    lacks (the file must be unchanged, else it starts over).
    """
    rate = _rate(limit_rate)
    with _progress() as bar:
        task = bar.add_task("upload", total=path.stat().st_size)
        published = common.run(
            lambda c: c.publish_document(
                group,
                path,
                category=category,
                document_id=document,
                version=version,
                progress=lambda n: bar.advance(task, n),
                notice=bar.console.print,
                rate=rate,
            )
        )
    common.console().print(f"published {published.document_id} version {published.version}")


@library_app.command("get")
def get(
    group: GroupArg,
    document: DocumentArg,
    version: Annotated[int | None, typer.Option(help="Default: the latest.")] = None,
    out: Annotated[Path, typer.Option(help="File or directory to write to.")] = Path("."),
    limit_rate: LimitRate = None,
) -> None:
    """Download, verify and decrypt a document; nothing is written unless it verifies.

    Interrupted? Type the same command again: it continues from the verified segments of the
    hidden partial file beside the destination.
    """
    rate = _rate(limit_rate)

    async def work(c: Cordon) -> Downloaded:
        await c.receive()  # install document keys that arrived since the last sync
        versions = await c.library_versions(group, document)
        number = version or max(v.version for v in versions)
        size = next(v.plain_size for v in versions if v.version == number)
        with _progress() as bar:
            task = bar.add_task("download", total=size)
            return await c.download_document(
                group,
                document,
                number,
                out,
                progress=lambda n: bar.advance(task, n),
                notice=bar.console.print,
                rate=rate,
            )

    got = common.run(work)
    common.console().print(f"verified and saved {got.path} ({got.size} bytes, {got.media_type})")


@library_app.command("withdraw")
def withdraw(group: GroupArg, document: uuid.UUID) -> None:
    """Withdraw a document (coordinators): members see it flagged and can no longer get it."""
    common.run(lambda c: c.withdraw_document(group, document))
    _say(f"withdrawn {document}")
