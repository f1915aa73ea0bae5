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
from cordon_client.exceptions import ApiError
from cordon_client.prenotifications import prenotifications, send_prenotification, transition
from cordon_client.records import archived, build_cases, sync
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PASSPHRASE = "coordinator keystore passphrase"
PASSWORD = "Coordinator-password-2026!"


def client(args: argparse.Namespace) -> Cordon:
    return Cordon(Path(args.home), PASSPHRASE, server=args.server, scrypt_n=2**14)


async def enrol(args: argparse.Namespace) -> dict[str, object]:
    """Redeem the enrolment code, log in (keys made and published), turn TOTP on (a group's
    coordinator must have it); the seed comes back for a browser login of the same member."""
    async with client(args) as c:
        await c.enrol(args.code, PASSWORD)
        profile = await c.login(args.username, PASSWORD)
        seed = (await c._call("POST", "/api/v1/auth/totp/setup"))["secret"]
        await c._call("POST", "/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(seed).now()})
        return {"user_id": profile.user_id, "totp_seed": seed}


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


async def try_send(args: argparse.Namespace) -> dict[str, object]:
    """Send, reporting a refusal (by this client or the server) instead of raising it."""
    async with client(args) as c:
        try:
            return {"seq": await c.send(uuid.UUID(args.group), args.text)}
        except Exception as exc:  # noqa: BLE001 - the refusal is the result
            return {"error": type(exc).__name__, "message": str(exc)}


async def safety(args: argparse.Namespace) -> dict[str, object]:
    """This member's safety number and QR payload (`cordon group safety-number`)."""
    async with client(args) as c:
        number, qr = c.member_fingerprint()
        return {"number": number, "qr": qr}


async def join_by_fingerprint(args: argparse.Namespace) -> dict[str, object]:
    """Admitted without an invitation: pin the group's root by the fingerprint compared out of
    band (`--text`) and certify this device."""
    async with client(args) as c:
        return {"fingerprint": await c.join_group(uuid.UUID(args.group), args.text)}


async def send_as_revoked(args: argparse.Namespace) -> dict[str, object]:
    """Play a revoked device that ignores its revocation: its client is handed the roster as
    it was before the `revoke_device` entry, so it distributes a chain and sends an alert as if
    still certified. What the server answers is reported; receivers must refuse the item."""
    from cordon_client.crypto.roster import verify_log

    async with client(args) as c:
        gid = uuid.UUID(args.group)
        _, keystore = c.state.require()
        entries = await c._log_entries(gid)
        cut = max(
            i
            for i, e in enumerate(entries)
            if e.op == "revoke_device" and e.body["device_id"] == str(keystore.device_id)
        )
        root = c.state.pinned_root(gid)
        assert root is not None
        stale = verify_log(root, gid, entries[:cut])

        async def stale_roster(*_: object, **__: object) -> object:
            return stale

        c.roster = stale_roster  # type: ignore[method-assign]
        c._sessions.pop(gid, None)
        try:
            return {"seq": await c.send(gid, args.text)}
        except ApiError as exc:
            return {"status": exc.status, "code": exc.code}


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


async def whois(args: argparse.Namespace) -> dict[str, object]:
    """A member's user id from the group's member listing, by username."""
    async with client(args) as c:
        listing = await c._call("GET", f"/api/v1/groups/{args.group}/members")
        rows = listing["items"] if isinstance(listing, dict) else listing
        return {"user_id": next(r["user_id"] for r in rows if r.get("username") == args.username)}


async def pn_send(args: argparse.Namespace) -> dict[str, object]:
    """Send a pre-notification (`--json` its data) to the destination user `--to`."""
    async with client(args) as c:
        record = await send_prenotification(
            c, uuid.UUID(args.group), json.loads(args.json), destination=[uuid.UUID(args.to)]
        )
        return {"id": record["id"], "seq": record["stream_seq"]}


async def pn_state(args: argparse.Namespace) -> dict[str, object]:
    """Sync, then every pre-notification as this member verified it: status after the last
    verified signed event, each event's check, refusals, decrypted findings."""
    async with client(args) as c:
        await sync(c)
        views = await prenotifications(c, uuid.UUID(args.group))
        return {
            "items": [
                {
                    "id": v.id,
                    "status": v.status,
                    "server_status": v.server_status,
                    "events": [
                        {"to": (e.event or {}).get("to"), "valid": e.valid} for e in v.events
                    ],
                    "refused": [r.error for r in v.refused],
                    "discrepancies": [d.data for d in v.discrepancies],
                    "trade_name": v.data.get("product", {}).get("trade_name"),
                }
                for v in views
            ],
            "cases": [
                {
                    "seq": case.seq,
                    "valid": case.original.valid,
                    "reporting_country": case.data.get("reporting_country"),
                    "remarks": case.data.get("remarks"),
                }
                for case in build_cases(archived(c, uuid.UUID(args.group)))
            ],
        }


async def pn_move(args: argparse.Namespace) -> dict[str, object]:
    """Move pre-notification `--id` to `--to` with an event signed by this device."""
    async with client(args) as c:
        await sync(c)
        detail = json.loads(args.json) if args.json else None
        gid, pid = uuid.UUID(args.group), uuid.UUID(args.id)
        record = await transition(c, gid, pid, args.to, detail)
        return {"status": record["status"]}


async def tamper_event(args: argparse.Namespace) -> dict[str, object]:
    """Change one hex digit of the signature in a stored status event (the server's JSON)."""
    with sqlite3.connect(args.database) as db:
        (raw,) = db.execute(
            "SELECT envelope FROM stream_item WHERE seq = ? AND kind = 'prenotification_event'",
            (args.seq,),
        ).fetchone()
        event = json.loads(raw)
        sig = event["sig"]
        event["sig"] = ("1" if sig[0] == "0" else "0") + sig[1:]
        db.execute(
            "UPDATE stream_item SET envelope = ? WHERE seq = ? AND kind = 'prenotification_event'",
            (json.dumps(event, separators=(",", ":")).encode(), args.seq),
        )
    return {"tampered": args.seq}


async def last_event_seq(args: argparse.Namespace) -> dict[str, object]:
    """The stream seq of the newest status event of the group (for the tamper step)."""
    with sqlite3.connect(args.database) as db:
        (seq,) = db.execute(
            "SELECT max(seq) FROM stream_item WHERE kind = 'prenotification_event'"
        ).fetchone()
    return {"seq": seq}


async def join_request(args: argparse.Namespace) -> dict[str, object]:
    """As a joining member: answer an invitation (root checked and pinned, key and MAC sent)."""
    async with client(args) as c:
        return {"group": str(await c.request_join(args.invitation))}


async def join(args: argparse.Namespace) -> dict[str, object]:
    """Once admitted: certify this device in the group's log (`join_group`)."""
    async with client(args) as c:
        return {"fingerprint": await c.join_group(uuid.UUID(args.group))}


async def roster(args: argparse.Namespace) -> dict[str, object]:
    """The roster as the SDK verifies it from its pinned root: member id -> role (and the
    certified devices of each member)."""
    async with client(args) as c:
        verified = await c.roster(uuid.UUID(args.group))
        return {
            "members": {str(m.member_id): m.role for m in verified.members.values()},
            "devices": {
                str(m.member_id): sorted(str(d) for d in m.devices)
                for m in verified.members.values()
            },
            "head_seq": verified.head_seq,
        }


async def login_device(args: argparse.Namespace) -> dict[str, object]:
    """An existing (browser) user logs in here too: a second device with its own keys,
    published; its link code is what the member's first device certifies."""
    async with client(args) as c:
        profile = await c.login(args.username, args.password, device_name="cordon-python phone")
        return {"device_id": profile.device_id, "link_code": c.link_code()}


async def try_receive(args: argparse.Namespace) -> dict[str, object]:
    """Receive, reporting a refusal (a revoked device's token) as its status and code."""
    async with client(args) as c:
        try:
            got = await c.receive()
        except ApiError as exc:
            return {"status": exc.status, "code": exc.code}
        return {"status": 200, "items": len(got)}


def one_time_stock(args: argparse.Namespace) -> dict[str, object]:
    """The unclaimed one-time prekey ids the server's database holds for device `--id`."""
    with sqlite3.connect(args.database) as db:
        rows = db.execute(
            "SELECT prekey_id FROM one_time_prekey WHERE device_id = ? ORDER BY prekey_id",
            (uuid.UUID(args.id).hex,),
        ).fetchall()
    return {"ids": [r[0] for r in rows]}


def wraps(args: argparse.Namespace) -> dict[str, object]:
    """The wraps of the stored targeted envelope at `--seq`: which prekey each device's is
    sealed to (1 signed, 2 one-time), read from the bytes as the server stores them."""
    from cordon_client.wire.envelope import parse_envelope

    with sqlite3.connect(args.database) as db:
        (raw,) = db.execute(
            "SELECT envelope FROM stream_item WHERE group_id = ? AND seq = ?",
            (uuid.UUID(args.group).hex, args.seq),
        ).fetchone()
    env = parse_envelope(bytes(raw))
    out = {}
    for device in (uuid.UUID(d) for d in args.json.split(",")):
        wrap = env.wrap_for(device)
        out[str(device)] = None if wrap is None else [wrap.prekey_type, wrap.prekey_id]
    return {"wraps": out}


async def drain(args: argparse.Namespace) -> dict[str, object]:
    """Claim `--count` one-time prekeys of device `--id` through the claim route (as senders
    would, without sending anything), leaving the device's stock low."""
    async with client(args) as c:
        got = 0
        for _ in range(args.count):
            answer = await c._call(
                "POST",
                f"/api/v1/groups/{args.group}/one-time-prekeys/claim",
                json={"device_ids": [args.id]},
            )
            got += sum(1 for i in answer["items"] if i["one_time_prekey"] is not None)
        return {"claimed": got}


def recipients(args: argparse.Namespace) -> dict[str, object]:
    """The stored items of a group after `--seq`: kind, sender device and recipients (what
    the server was asked to deliver to whom), as an observer of the server's database."""
    with sqlite3.connect(args.database) as db:
        rows = db.execute(
            "SELECT seq, kind, sender_device_id, recipients FROM stream_item "
            "WHERE group_id = ? AND seq > ? ORDER BY seq",
            (uuid.UUID(args.group).hex, args.seq),
        ).fetchall()
    return {
        "items": [
            {
                "seq": seq,
                "kind": kind,
                "sender": str(uuid.UUID(hex=sender)) if sender else None,
                "recipients": json.loads(to) if to else None,
            }
            for seq, kind, sender, to in rows
        ]
    }


async def forge_member(args: argparse.Namespace) -> dict[str, object]:
    """Play the malicious server: append to the stored log an `add_member` for a stranger,
    correctly chained but signed by a key that is no coordinator's."""
    from cordon_client.crypto import LogEntry, LogWriter
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    group = uuid.UUID(args.group)
    with sqlite3.connect(args.database) as db:
        rows = db.execute(
            "SELECT entry_json FROM group_log_entry WHERE group_id = ? ORDER BY seq",
            (group.hex,),
        ).fetchall()
        writer = LogWriter(group, [LogEntry.from_json(json.loads(r[0])) for r in rows])
        forger = Ed25519PrivateKey.generate()
        stranger = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        head = writer.entries[-1]
        entry = writer.add_member(forger, uuid.uuid4(), stranger, "coordinator", head.ts + 1)
        db.execute(
            "INSERT INTO group_log_entry (id, group_id, seq, op, entry_hash, entry_json, "
            "author_device_id, created_at) SELECT ?, group_id, ?, ?, ?, ?, NULL, created_at "
            "FROM group_log_entry WHERE group_id = ? AND seq = ?",
            (
                uuid.uuid4().hex,
                entry.seq,
                entry.op,
                entry.entry_hash(),
                json.dumps(entry.to_json()),
                group.hex,
                head.seq,
            ),
        )
    return {"forged_seq": entry.seq}


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
    "join-request": join_request,
    "join": join,
    "roster": roster,
    "forge-member": forge_member,
    "whois": whois,
    "pn-send": pn_send,
    "pn-state": pn_state,
    "pn-move": pn_move,
    "pn-tamper-event": tamper_event,
    "pn-last-event": last_event_seq,
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
    "publish": publish,
    "download": download,
    "tamper-blob": tamper_blob,
    "login-device": login_device,
    "try-receive": try_receive,
    "recipients": recipients,
    "send-as-revoked": send_as_revoked,
    "safety": safety,
    "join-by-fingerprint": join_by_fingerprint,
    "try-send": try_send,
    "one-time-stock": one_time_stock,
    "wraps": wraps,
    "drain": drain,
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
    parser.add_argument("--json")
    parser.add_argument("--to")
    parser.add_argument("--id")
    parser.add_argument("--invitation")
    parser.add_argument("--role", default="member")
    parser.add_argument("--file")
    parser.add_argument("--category")
    parser.add_argument("--document")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--dest")
    parser.add_argument("--blob-dir")
    parser.add_argument("--parent", type=int)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--gap-ms", type=int, default=300)
    parser.add_argument("--password")
    args = parser.parse_args()
    step = STEPS[args.step]
    result = step(args)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
