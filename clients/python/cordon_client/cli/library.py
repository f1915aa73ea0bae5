"""`cordon library ls / versions / publish / get`: a thin typer layer over the `Cordon` SDK.

Publishing wraps the document key end to end to every verified device of the group; `get`
verifies the manifest against the uploader's device in the verified roster and writes the file
under its final name only once the last segment authenticates.
"""

from __future__ import annotations

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
    help="The group's document library: ls, versions, publish, get.", no_args_is_help=True
)

Category = Annotated[str | None, typer.Option(help=", ".join(CATEGORIES))]


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
) -> None:
    """Encrypt and publish a file; its key goes end to end to the group's devices."""
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
            )
        )
    common.console().print(f"published {published.document_id} version {published.version}")


@library_app.command("get")
def get(
    group: GroupArg,
    document: DocumentArg,
    version: Annotated[int | None, typer.Option(help="Default: the latest.")] = None,
    out: Annotated[Path, typer.Option(help="File or directory to write to.")] = Path("."),
) -> None:
    """Download, verify and decrypt a document; nothing is written unless it verifies."""

    async def work(c: Cordon) -> Downloaded:
        await c.receive()  # install document keys that arrived since the last sync
        versions = await c.library_versions(group, document)
        number = version or max(v.version for v in versions)
        size = next(v.size for v in versions if v.version == number)
        with _progress() as bar:
            task = bar.add_task("download", total=size)
            return await c.download_document(
                group, document, number, out, progress=lambda n: bar.advance(task, n)
            )

    got = common.run(work)
    common.console().print(f"verified and saved {got.path} ({got.size} bytes, {got.media_type})")
