"""The Python SDK's side of the browser history test (`history.spec.ts`, PROTOCOL §9): a
coordinator granting a late joiner the group's earlier cases (`Cordon.grant_history`), a
member importing what a browser coordinator granted (`records.sync`), and a member's SDK
device linking its new (browser) device and handing it its history (`Cordon.link_device`).
One process per step, one JSON line out; enrolment, the group and admissions are
`sdk_member.py`'s steps.

Usage: sdk_history.py STEP --server URL --home DIR --group ID [args]
"""

import argparse
import asyncio
import json
import sys
import uuid

from cordon_client.cases import operations
from cordon_client.records import store
from sdk_member import client


async def grant(args: argparse.Namespace) -> dict[str, object]:
    """As coordinator: log `grant_history(user, scope)` and send the HISTORY_GRANT."""
    async with client(args) as c:
        await store.sync(c)  # open what arrived since, so its keys are kept too
        count = await c.grant_history(uuid.UUID(args.group), uuid.UUID(args.user), args.scope)
        return {"granted": count}


async def cases(args: argparse.Namespace) -> dict[str, object]:
    """Sync (which imports granted history), then the group's cases and refused items."""
    async with client(args) as c:
        await store.sync(c)
        gid = uuid.UUID(args.group)
        refused = [[i.seq, i.error] for i in store.archived(c, gid) if not i.valid]
        listed = [
            {"seq": v.seq, "operation": v.data.get("operation")} for v in operations.cases(c, gid)
        ]
        return {"cases": listed, "refused": refused}


async def login_link(args: argparse.Namespace) -> dict[str, object]:
    """As a new SDK device of an existing (browser) member: log in, show the link code."""
    async with client(args) as c:
        await c.login(args.username, args.password)
        return {"link_code": c.link_code()}


async def pin(args: argparse.Namespace) -> dict[str, object]:
    """Once linked: pin the group's root by the fingerprint the first device shows."""
    async with client(args) as c:
        return {"fingerprint": await c.join_group(uuid.UUID(args.group), args.fingerprint)}


async def received(args: argparse.Namespace) -> dict[str, object]:
    """Receive what is waiting: every item the application sees, with its error if refused
    (a key hand-out that installs, such as a HISTORY_TRANSFER, is not shown), and whose
    sender chains the group's session now holds."""
    async with client(args) as c:
        items = await c.receive()
        session = await c._session(uuid.UUID(args.group))
        return {
            "items": [
                {"seq": i.seq, "kind": i.kind, "verified": i.verified, "error": i.error}
                for i in items
            ],
            "chains": sorted(str(ch.sender_device_id) for ch in session.receiver_chains.values()),
        }


async def link(args: argparse.Namespace) -> dict[str, object]:
    """From this member's first device: link the new device whose code was shown, which also
    sends it this device's history (`Cordon.link_device`)."""
    async with client(args) as c:
        await store.sync(c)
        device, sent = await c.link_device(uuid.UUID(args.group), args.code)
        if not isinstance(sent, int):
            raise sent
        return {"device_id": str(device), "sent": sent}


STEPS = {
    "grant": grant,
    "cases": cases,
    "link": link,
    "login-link": login_link,
    "pin": pin,
    "received": received,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--server")
    parser.add_argument("--home")
    parser.add_argument("--group")
    parser.add_argument("--user")
    parser.add_argument("--scope", default="cases")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--fingerprint")
    parser.add_argument("--code")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(STEPS[args.step](args))) + "\n")


if __name__ == "__main__":
    main()
