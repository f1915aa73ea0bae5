"""The malicious server against a browser member's verified log (PROTOCOL §4.6–4.7): it
hides the newest log entry (a rollback), puts it back, serves a different entry signed by the
group's root at a seq the member verified (a fork), or the honest entry again. Edits the
server's SQLite database as an operator with its disk would; one JSON line per step, like
sdk_member.py.

Usage: sdk_log_attacks.py STEP --database DB --group ID --file F [--home DIR --member ID]
"""

import argparse
import asyncio
import json
import sqlite3
import sys
import time
import uuid
from pathlib import Path

from cordon_client.crypto import LogEntry, LogWriter
from sdk_member import client

COLUMNS = (
    "id",
    "group_id",
    "seq",
    "op",
    "entry_hash",
    "entry_json",
    "author_device_id",
    "created_at",
)


def _rows(db: sqlite3.Connection, group: uuid.UUID) -> list[tuple[object, ...]]:
    query = f"SELECT {', '.join(COLUMNS)} FROM group_log_entry WHERE group_id = ? ORDER BY seq"
    return db.execute(query, (group.hex,)).fetchall()


def hide_head(args: argparse.Namespace) -> dict[str, object]:
    """Delete the newest entry, kept in `--file` for `restore`."""
    group = uuid.UUID(args.group)
    with sqlite3.connect(args.database) as db:
        row = _rows(db, group)[-1]
        db.execute("DELETE FROM group_log_entry WHERE id = ?", (row[0],))
    kept = dict(zip(COLUMNS, row, strict=True))
    kept["entry_hash"] = bytes(kept["entry_hash"]).hex()  # type: ignore[arg-type]
    Path(args.file).write_text(json.dumps(kept))
    return {"hidden_seq": kept["seq"]}


def restore(args: argparse.Namespace) -> dict[str, object]:
    """Put back the entry `hide-head` deleted."""
    kept = json.loads(Path(args.file).read_text())
    kept["entry_hash"] = bytes.fromhex(kept["entry_hash"])
    with sqlite3.connect(args.database) as db:
        db.execute(
            f"INSERT INTO group_log_entry ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(COLUMNS))})",
            tuple(kept[c] for c in COLUMNS),
        )
    return {"restored_seq": kept["seq"]}


async def fork_head(args: argparse.Namespace) -> dict[str, object]:
    """Serve, in place of the newest entry, a root-signed `set_role` of `--member` to
    coordinator at the same seq: validly signed, chained to the same prefix, a fork."""
    group = uuid.UUID(args.group)
    async with client(args) as c:
        root = c.state.root_key(group)
    assert root is not None, "the coordinator's home holds no root key for this group"
    with sqlite3.connect(args.database) as db:
        rows = _rows(db, group)
        entries = [LogEntry.from_json(json.loads(str(r[5]))) for r in rows]
        other = LogWriter(group, entries[:-1]).set_role(
            root, uuid.UUID(args.member), "coordinator", int(time.time() * 1000)
        )
        db.execute(
            "UPDATE group_log_entry SET entry_json = ? WHERE id = ?",
            (json.dumps(other.to_json()), rows[-1][0]),
        )
    Path(args.file).write_text(json.dumps({"id": rows[-1][0], "entry_json": rows[-1][5]}))
    return {
        "forked_seq": other.seq,
        "theirs": other.entry_hash().hex()[:16],
        "mine": entries[-1].entry_hash().hex()[:16],
    }


def unfork(args: argparse.Namespace) -> dict[str, object]:
    """Serve the honest entry again in place of the one `fork-head` wrote."""
    kept = json.loads(Path(args.file).read_text())
    with sqlite3.connect(args.database) as db:
        db.execute(
            "UPDATE group_log_entry SET entry_json = ? WHERE id = ?",
            (kept["entry_json"], kept["id"]),
        )
    return {"unforked": kept["id"]}


STEPS = {"hide-head": hide_head, "restore": restore, "fork-head": fork_head, "unfork": unfork}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=sorted(STEPS))
    for option in ("--database", "--group", "--file", "--home", "--server", "--member"):
        parser.add_argument(option)
    args = parser.parse_args()
    result = STEPS[args.step](args)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
