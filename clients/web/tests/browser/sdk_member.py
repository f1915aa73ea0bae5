"""The Python SDK's side of the browser feed test: a coordinator driven through `Cordon`, one
process per step (state in `--home`), printing one JSON line. Also tampers a stored envelope
in the server's SQLite database, as an attacker with the database would.

Usage: sdk_member.py STEP --server URL --home DIR [args]
"""

import argparse
import asyncio
import json
import sqlite3
import sys
import uuid
from pathlib import Path

import pyotp
from cordon_client._client import Cordon

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


async def invite(args: argparse.Namespace) -> dict[str, object]:
    """As coordinator: one more invitation (each is answered by one member)."""
    async with client(args) as c:
        return {"invitation": await c.invite(uuid.UUID(args.group))}


async def admit(args: argparse.Namespace) -> dict[str, object]:
    async with client(args) as c:
        return {"admitted": [list(r) for r in await c.admit_all(uuid.UUID(args.group))]}


async def send(args: argparse.Namespace) -> dict[str, object]:
    async with client(args) as c:
        seq = await c.send(
            uuid.UUID(args.group), args.text, urgent=args.urgent, parent_seq=args.parent
        )
        return {"seq": seq}


async def send_many(args: argparse.Namespace) -> dict[str, object]:
    """`--count` alerts `TEXT n` in batches (the feed benchmark's backlog)."""
    async with client(args) as c:
        texts = [f"{args.text} {n}" for n in range(1, args.count + 1)]
        seqs = await c.send_many(uuid.UUID(args.group), texts)
        return {"first": seqs[0], "last": seqs[-1]}


async def send_spaced(args: argparse.Namespace) -> dict[str, object]:
    """`--count` alerts one by one, `--gap-ms` apart (pushed live to a listening browser)."""
    async with client(args) as c:
        seqs = []
        for n in range(1, args.count + 1):
            seqs.append(await c.send(uuid.UUID(args.group), f"{args.text} {n}"))
            await asyncio.sleep(args.gap_ms / 1000)
        return {"seqs": seqs}


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


async def reparent(args: argparse.Namespace) -> dict[str, object]:
    """Move a stored reply's `parent_seq` to another item, as a server that lies about
    which item a reply answers would (the signed reply target no longer matches)."""
    with sqlite3.connect(args.database) as db:
        db.execute(
            "UPDATE stream_item SET parent_seq = ? WHERE seq = ? AND kind = 'alert'",
            (args.parent, args.seq),
        )
    return {"reparented": args.seq}


STEPS = {
    "enrol": enrol,
    "open": open_group,
    "invite": invite,
    "admit": admit,
    "send": send,
    "send-many": send_many,
    "send-spaced": send_spaced,
    "receive": receive,
    "tamper": tamper,
    "reparent": reparent,
    "receipts": receipts,
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
    parser.add_argument("--parent", type=int)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--gap-ms", type=int, default=300)
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(STEPS[args.step](args))) + "\n")


if __name__ == "__main__":
    main()
