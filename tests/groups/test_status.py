"""Table-driven: what each group-scoped route accepts in a closed and an archived group.

The table is written by hand, independently of `app.groups.status`: a new group-scoped route
fails `test_every_group_route_has_a_status_rule` until someone decides what it is.
"""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.groups.test_authorisation import (
    EXTRA_GROUP_ROUTES,
    GROUP_ROUTES,
    INVITATION_ROUTES,
    _call,
    _code,
    _fill,
    _operations,
)
from tests.messages.helpers import post, receipt, ref_of

READ, CONTENT, MANAGE, LIFECYCLE = "read", "content", "manage", "lifecycle"
REFUSED_IN = {READ: set(), LIFECYCLE: set(), CONTENT: {"closed", "archived"}, MANAGE: {"archived"}}

ROUTE_KINDS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/groups/{group_id}"): READ,
    ("PATCH", "/api/v1/groups/{group_id}"): MANAGE,
    ("POST", "/api/v1/groups/{group_id}/status"): LIFECYCLE,
    ("GET", "/api/v1/groups/{group_id}/members"): READ,
    ("POST", "/api/v1/groups/{group_id}/members"): MANAGE,
    ("PATCH", "/api/v1/groups/{group_id}/members/{user_id}"): MANAGE,
    ("DELETE", "/api/v1/groups/{group_id}/members/{user_id}"): MANAGE,
    ("GET", "/api/v1/groups/{group_id}/events"): READ,
    ("GET", "/api/v1/groups/{group_id}/keys"): READ,
    ("GET", "/api/v1/groups/{group_id}/member-keys"): READ,
    ("GET", "/api/v1/groups/{group_id}/log"): READ,
    ("POST", "/api/v1/groups/{group_id}/log"): MANAGE,
    ("POST", "/api/v1/groups/{group_id}/messages"): CONTENT,
    ("POST", "/api/v1/groups/{group_id}/messages/batch"): CONTENT,
    ("GET", "/api/v1/groups/{group_id}/messages/{seq}"): READ,
    ("GET", "/api/v1/groups/{group_id}/messages/{seq}/receipts"): READ,
    ("POST", "/api/v1/groups/{group_id}/library/uploads"): CONTENT,
    ("GET", "/api/v1/groups/{group_id}/library/documents"): READ,
    ("GET", "/api/v1/groups/{group_id}/library/documents/{document_id}"): READ,
    ("GET", "/api/v1/groups/{group_id}/library/documents/{document_id}/versions"): READ,
    ("GET", "/api/v1/groups/{group_id}/library/documents/{document_id}/versions/{version}"): READ,
    (
        "GET",
        "/api/v1/groups/{group_id}/library/documents/{document_id}/versions/{version}/content",
    ): READ,
    ("POST", "/api/v1/groups/{group_id}/library/documents/{document_id}/withdraw"): CONTENT,
    ("POST", "/api/v1/groups/{group_id}/templates"): CONTENT,
    ("GET", "/api/v1/groups/{group_id}/templates"): READ,
    ("GET", "/api/v1/groups/{group_id}/templates/{template_id}/versions/{version}"): READ,
    ("POST", "/api/v1/groups/{group_id}/prenotifications"): CONTENT,
    ("GET", "/api/v1/groups/{group_id}/prenotifications"): READ,
    ("GET", "/api/v1/groups/{group_id}/prenotifications/{prenotification_id}"): READ,
    ("POST", "/api/v1/groups/{group_id}/prenotifications/{prenotification_id}/events"): CONTENT,
    ("POST", "/api/v1/groups/{group_id}/invitations"): MANAGE,
    ("DELETE", "/api/v1/groups/{group_id}/invitations/{invitation_id}"): MANAGE,
    ("GET", "/api/v1/groups/{group_id}/join-requests"): MANAGE,  # part of admitting
    ("POST", "/api/v1/groups/{group_id}/one-time-prekeys/claim"): CONTENT,
    ("GET", "/api/v1/groups/{group_id}/history/{scope}"): READ,
}
# The join request is authorised by the open invitation in its path, not by membership: a
# made-up invitation is the group's 404 before any status is consulted (its status rule is
# tested in tests/invitations).


async def _set_status(client: httpx.AsyncClient, g: f.GroupSetup, status: str) -> None:
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/status",
        headers=g.coordinator.headers,
        json={"status": status},
    )
    assert r.status_code == 200, r.text


async def _receipt(client: httpx.AsyncClient, who: f.Actor, group_id: str, sent: dict):
    signed = receipt(who, group_id, sent["seq"], "read", ref_of(sent))
    return await client.post("/api/v1/receipts", headers=who.headers, json={"receipts": [signed]})


async def test_every_group_route_has_a_status_rule(app: object):
    """Each group-scoped operation in the schema says what it is: read, content, management."""
    scoped = {op for op in _operations(app) if "{group_id}" in op[1]}
    routes = set(GROUP_ROUTES) | set(EXTRA_GROUP_ROUTES)
    assert scoped == set(ROUTE_KINDS) | INVITATION_ROUTES == routes | INVITATION_ROUTES


async def test_closed_and_archived_groups_refuse_what_their_status_forbids(
    client: httpx.AsyncClient, session: AsyncSession
):
    """The coordinator (allowed past every role check) meets `group.read_only` exactly where
    the table says, and nowhere else, first in a closed group, then in an archived one."""
    g = await f.group_with_roles(client, session)
    for status in ("closed", "archived"):
        await _set_status(client, g, status)
        for (method, path), kind in ROUTE_KINDS.items():
            if kind == LIFECYCLE:
                continue
            r = await _call(client, method, _fill(path, g.group_id), g.coordinator.headers)
            where = (status, method, path, r.status_code, r.text[:200])
            assert r.status_code < 500, where
            if status in REFUSED_IN[kind]:
                assert r.status_code == 409 and _code(r) == "group.read_only", where
            else:
                assert _code(r) != "group.read_only", where


async def test_closed_group_refuses_a_real_alert(client: httpx.AsyncClient, session: AsyncSession):
    """A well-formed, correctly signed alert is refused once the group is closed, and taken
    again once the coordinator reopens it."""
    g = await f.group_with_roles(client, session)
    await _set_status(client, g, "closed")
    f.assert_problem(await post(client, g.member, g.group_id), 409, "group.read_only")
    await _set_status(client, g, "active")
    assert (await post(client, g.member, g.group_id)).status_code == 201


async def test_receipts_in_closed_and_archived_groups(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A closed group's record is still acknowledged; an archived group takes nothing."""
    g = await f.group_with_roles(client, session)
    first = (await post(client, g.member, g.group_id)).json()
    second = (await post(client, g.member, g.group_id)).json()
    await _set_status(client, g, "closed")
    assert (await _receipt(client, g.observer, g.group_id, first)).status_code == 204
    await _set_status(client, g, "archived")
    r = await _receipt(client, g.observer, g.group_id, second)
    f.assert_problem(r, 409, "group.read_only")
