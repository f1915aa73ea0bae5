"""The Python SDK's side of the browser cases test (`cases.spec.ts`): the coordinator of
`sdk_member.py` posting, amending, reviewing and reading seizure cases through
`cordon_client.cases` and `cordon_client.records`, one process per step, one JSON line out.
Enrolment, the group and admissions are `sdk_member.py`'s steps (same home, same keys).

Usage: sdk_cases.py STEP --server URL --home DIR --group ID [args]
"""

import argparse
import asyncio
import json
import sys
import uuid
from typing import Any

from cordon_client.cases import operations
from cordon_client.records import store
from sdk_member import client


def _case(view: Any) -> dict[str, Any]:
    return {
        "seq": view.seq,
        "status": view.status,
        "sender": str(view.original.sender_user_id),
        "versions": [i.seq for i in view.versions],
        "data": view.data,
        "replies": [(i.data or {}).get("text") for i in view.replies],
        "reviews": [(i.data or {}).get("verdict") for i in view.reviews],
        "refused": [[i.seq, i.error] for i in view.refused],
    }


async def post(args: argparse.Namespace) -> dict[str, object]:
    async with client(args) as c:
        item = await operations.post_case(
            c, uuid.UUID(args.group), json.loads(args.data), form=args.form
        )
        return {"seq": item.seq}


async def amend(args: argparse.Namespace) -> dict[str, object]:
    async with client(args) as c:
        await store.sync(c)
        item = await operations.amend_case(
            c, uuid.UUID(args.group), args.case, json.loads(args.data), form=args.form
        )
        return {"seq": item.seq}


async def review(args: argparse.Namespace) -> dict[str, object]:
    async with client(args) as c:
        await store.sync(c)
        item = await operations.review_case(
            c, uuid.UUID(args.group), args.case, verdict=args.verdict, note=args.text
        )
        return {"seq": item.seq}


async def cases(args: argparse.Namespace) -> dict[str, object]:
    """Sync (decrypt, validate against the template, archive), then every case and every
    refused item of the group as this device holds them."""
    async with client(args) as c:
        await store.sync(c)
        gid = uuid.UUID(args.group)
        refused = [[i.seq, i.type, i.error] for i in store.archived(c, gid) if not i.valid]
        return {"cases": [_case(v) for v in operations.cases(c, gid)], "refused": refused}


STEPS = {"post": post, "amend": amend, "review": review, "cases": cases}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--server")
    parser.add_argument("--home")
    parser.add_argument("--group")
    parser.add_argument("--data")
    parser.add_argument("--form", default="simplified")
    parser.add_argument("--case", type=int)
    parser.add_argument("--verdict")
    parser.add_argument("--text")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(STEPS[args.step](args))) + "\n")


if __name__ == "__main__":
    main()
