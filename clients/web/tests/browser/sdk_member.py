"""The Python SDK's side of the browser feed test: a coordinator driven through `Cordon`, one
process per step (state in `--home`), printing one JSON line; it publishes and downloads
library documents too. Also tampers a stored envelope, a library blob or a manifest in the
server's database or blob directory, as an attacker with the server's disk would.

Usage: sdk_member.py STEP --server URL --home DIR [args]
"""

import argparse
import asyncio
import dataclasses
import hashlib
import json
import sqlite3
import sys
import uuid
from pathlib import Path

import pyotp
from cordon_client._client import Cordon
from cordon_client.crypto.stream import Manifest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PASSPHRASE = "coordinator keystore passphrase"
PASSWORD = "Coordinator-password-2026!"


def client(args: argparse.Namespace) -> Cordon:
    return Cordon(Path(args.home), PASSPHRASE, server=args.server, scrypt_n=2**14)


async def enrol(args: argparse.Namespace) -> dict[str, object]:
    """Redeem the enrolment code, log in (keys made and published), turn TOTP on (a group's
    coordinator must have it)."""
    async with client(args) as c:
        await c.enrol(args.code, PASSWORD)
        profile = await c.login(args.username, PASSWORD)
        seed = (await c._call("POST", "/api/v1/auth/totp/setup"))["secret"]
        await c._call("POST", "/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(seed).now()})
        return {"user_id": profile.user_id}


async def open_group(args: argparse.Namespace) -> dict[str, object]:
    """As coordinator: activate the group, open its log, issue one invitation."""
    async with client(args) as c:
        gid = uuid.UUID(args.group)
        await c.set_group_status(gid, "active")
        fingerprint = await c.open_group_log(gid)
        return {"invitation": await c.invite(gid), "fingerprint": fingerprint}


async def admit(args: argparse.Namespace) -> dict[str, object]:
    async with client(args) as c:
        admitted = await c.admit_all(uuid.UUID(args.group), role=args.role)
        return {"admitted": [list(r) for r in admitted]}


async def publish(args: argparse.Namespace) -> dict[str, object]:
    """As coordinator: encrypt and publish a file; its key goes out as DOCUMENT_KEY."""
    async with client(args) as c:
        published = await c.publish_document(
            uuid.UUID(args.group), Path(args.file), category=args.category
        )
        return {"document_id": str(published.document_id), "version": published.version}


async def download(args: argparse.Namespace) -> dict[str, object]:
    """Take in pending keys, then download, verify and decrypt a version into --dest (a
    directory); a refusal is reported, not raised."""
    async with client(args) as c:
        await c.receive()
        try:
            got = await c.download_document(
                uuid.UUID(args.group), uuid.UUID(args.document), args.version, Path(args.dest)
            )
        except Exception as exc:  # reported to the test, which asserts on it
            return {"error": f"{type(exc).__name__}: {exc}"}
        return {
            "name": got.name,
            "media_type": got.media_type,
            "sha256": hashlib.sha256(got.path.read_bytes()).hexdigest(),
        }


def tamper_blob(args: argparse.Namespace) -> dict[str, object]:
    """Flip one byte of a published version's stored ciphertext, as an attacker with the
    server's disk would."""
    document = uuid.UUID(args.document)
    with sqlite3.connect(args.database) as db:
        (digest,) = db.execute(
            "SELECT blob_sha256 FROM library_document_version WHERE document_id IN (?, ?)",
            (document.hex, str(document)),
        ).fetchone()
    blob = Path(args.blob_dir) / "sha256" / digest[:2] / digest[2:4] / digest
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    blob.write_bytes(bytes(raw))
    return {"tampered": str(blob)}


async def send(args: argparse.Namespace) -> dict[str, object]:
    async with client(args) as c:
        seq = await c.send(uuid.UUID(args.group), args.text, urgent=args.urgent)
        return {"seq": seq}


async def receive(args: argparse.Namespace) -> dict[str, object]:
    async with client(args) as c:
        got = await c.receive()
        return {
            "items": [
                {
                    "seq": i.seq,
                    "kind": i.kind,
                    "verified": i.verified,
                    "urgent": i.urgent,
                    "text": i.content.decode() if i.content else None,
                    "error": i.error,
                }
                for i in got
                if i.kind in ("alert", "chat")
            ]
        }


async def receipts(args: argparse.Namespace) -> dict[str, object]:
    """As the sender: how far each recipient device got with the item at `--seq`."""
    async with client(args) as c:
        rows = await c._call("GET", f"/api/v1/groups/{args.group}/messages/{args.seq}/receipts")
        return {"receipts": rows}


async def tamper(args: argparse.Namespace) -> dict[str, object]:
    """Flip one byte of a stored envelope's ciphertext (the signature no longer holds)."""
    with sqlite3.connect(args.database) as db:
        (envelope,) = db.execute(
            "SELECT envelope FROM stream_item WHERE seq = ? AND kind = 'alert'", (args.seq,)
        ).fetchone()
        raw = bytearray(envelope)
        raw[-80] ^= 0x01
        db.execute(
            "UPDATE stream_item SET envelope = ? WHERE seq = ? AND kind = 'alert'",
            (bytes(raw), args.seq),
        )
    return {"tampered": args.seq}


def forge_manifest(args: argparse.Namespace) -> dict[str, object]:
    """Re-sign a published version's manifest with a key that is not its uploader's, as a
    server forging a publisher would (the name it claims stays the coordinator's device)."""
    document = uuid.UUID(args.document)
    with sqlite3.connect(args.database) as db:
        (raw,) = db.execute(
            "SELECT manifest FROM library_document_version"
            " WHERE document_id IN (?, ?) AND version = ?",
            (document.hex, str(document), args.version),
        ).fetchone()
        manifest = Manifest.from_bytes(raw)
        forged = dataclasses.replace(
            manifest, signature=Ed25519PrivateKey.generate().sign(manifest.signed_bytes())
        )
        db.execute(
            "UPDATE library_document_version SET manifest = ?"
            " WHERE document_id IN (?, ?) AND version = ?",
            (forged.to_bytes(), document.hex, str(document), args.version),
        )
    return {"forged": str(document)}


STEPS = {
    "enrol": enrol,
    "open": open_group,
    "admit": admit,
    "send": send,
    "receive": receive,
    "tamper": tamper,
    "receipts": receipts,
    "publish": publish,
    "download": download,
    "tamper-blob": tamper_blob,
    "forge-manifest": forge_manifest,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--server")
    parser.add_argument("--home")
    parser.add_argument("--code")
    parser.add_argument("--username")
    parser.add_argument("--group")
    parser.add_argument("--text")
    parser.add_argument("--urgent", action="store_true")
    parser.add_argument("--database")
    parser.add_argument("--seq", type=int)
    parser.add_argument("--role", default="member")
    parser.add_argument("--file")
    parser.add_argument("--category")
    parser.add_argument("--document")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--dest")
    parser.add_argument("--blob-dir")
    args = parser.parse_args()
    step = STEPS[args.step]
    result = step(args)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
