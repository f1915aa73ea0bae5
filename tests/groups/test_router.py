"""Groups through the API: creation, lifecycle, membership, roles and the membership log."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.groups.models import Membership, MembershipEvent
from tests import factories as f
from tests.factories import assert_problem


async def _events(client: httpx.AsyncClient, g: f.GroupSetup) -> list[dict[str, object]]:
    r = await client.get(f"/api/v1/groups/{g.group_id}/events", headers=g.member.headers)
    assert r.status_code == 200
    items: list[dict[str, object]] = r.json()["items"]
    return items


async def test_only_admins_open_groups_and_coordinators_need_totp(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A plain user cannot open a group; a coordinator without TOTP is refused."""
    admin = await f.actor(client, session, admin=True, totp=True)
    plain = await f.actor(client, session)
    r = await client.post("/api/v1/groups", headers=plain.headers, json={"name": "Op X"})
    assert_problem(r, 403, "auth.admin_required")
    r = await client.post(
        "/api/v1/groups", headers=admin.headers, json={"name": "Op X", "coordinator_id": plain.id}
    )
    assert_problem(r, 422, "group.coordinator_needs_totp")
    r = await client.post("/api/v1/groups", headers=admin.headers, json={"name": "Op X"})
    assert r.status_code == 201 and r.json()["status"] == "planned"
    r = await client.post("/api/v1/groups", headers=admin.headers, json={"name": "op x"})
    assert_problem(r, 409, "group.name_taken")


async def test_lifecycle_transitions(client: httpx.AsyncClient, session: AsyncSession):
    """planned → active → closed → archived; skipping or leaving archived is refused."""
    g = await f.group_with_roles(client, session)
    url = f"/api/v1/groups/{g.group_id}/status"
    h = g.coordinator.headers
    assert_problem(
        await client.post(url, headers=h, json={"status": "archived"}),
        422,
        "group.invalid_transition",
    )
    assert_problem(
        await client.post(url, headers=h, json={"status": "paused"}), 422, "core.invalid_input"
    )
    for status in ("closed", "active", "closed", "archived"):
        r = await client.post(url, headers=h, json={"status": status})
        assert r.status_code == 200 and r.json()["status"] == status
    for status in ("active", "closed"):
        assert_problem(
            await client.post(url, headers=h, json={"status": status}),
            422,
            "group.invalid_transition",
        )


async def test_archived_group_is_read_only(client: httpx.AsyncClient, session: AsyncSession):
    """In an archived group, membership and settings cannot change, but reading works."""
    g = await f.group_with_roles(client, session)
    await f.archive(client, g)
    base = f"/api/v1/groups/{g.group_id}"
    h = g.coordinator.headers
    assert_problem(
        await client.post(f"{base}/members", headers=h, json={"user_id": g.outsider.id}),
        409,
        "group.read_only",
    )
    assert_problem(
        await client.delete(f"{base}/members/{g.member.id}", headers=h), 409, "group.read_only"
    )
    assert_problem(
        await client.patch(base, headers=h, json={"description": "x"}), 409, "group.read_only"
    )
    assert (await client.get(f"{base}/members", headers=g.observer.headers)).status_code == 200


async def test_membership_changes_are_logged_in_order(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Every change appends one event; sequence numbers are gap-free from 1."""
    g = await f.group_with_roles(client, session)
    base = f"/api/v1/groups/{g.group_id}"
    h = g.coordinator.headers
    r = await client.patch(
        f"{base}/members/{g.member.id}", headers=h, json={"role": "co_coordinator", "region": "ESA"}
    )
    assert r.status_code == 200 and r.json()["region"] == "ESA"
    assert (await client.delete(f"{base}/members/{g.observer.id}", headers=h)).status_code == 204
    events = await _events(client, g)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    kinds = [e["kind"] for e in events]
    assert kinds == [
        "group_created",
        "member_added",
        "member_added",
        "member_added",
        "member_added",
        "status_changed",
        "role_changed",
        "member_removed",
    ]
    assert events[-2]["subject_id"] == g.member.id and events[-2]["role"] == "co_coordinator"


async def test_removed_member_loses_access_and_can_be_readmitted(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A removed member sees the group as missing; re-adding restores access."""
    g = await f.group_with_roles(client, session)
    base = f"/api/v1/groups/{g.group_id}"
    await client.delete(f"{base}/members/{g.member.id}", headers=g.coordinator.headers)
    assert_problem(await client.get(base, headers=g.member.headers), 404, "group.not_found")
    assert g.group_id not in [
        x["id"] for x in (await client.get("/api/v1/groups", headers=g.member.headers)).json()
    ]
    r = await client.post(
        f"{base}/members",
        headers=g.coordinator.headers,
        json={"user_id": g.member.id, "role": "observer"},
    )
    assert r.status_code == 201
    mine = (await client.get("/api/v1/groups", headers=g.member.headers)).json()
    assert [(x["id"], x["my_role"]) for x in mine] == [(g.group_id, "observer")]


async def test_membership_input_errors(client: httpx.AsyncClient, session: AsyncSession):
    """Duplicates, unknown users, misplaced region scopes and the last coordinator are refused."""
    g = await f.group_with_roles(client, session)
    base = f"/api/v1/groups/{g.group_id}"
    h = g.coordinator.headers
    count = await session.scalar(select(func.count()).select_from(MembershipEvent))
    assert_problem(
        await client.post(f"{base}/members", headers=h, json={"user_id": g.member.id}),
        409,
        "group.already_member",
    )
    assert_problem(
        await client.post(
            f"{base}/members", headers=h, json={"user_id": "00000000-0000-0000-0000-000000000009"}
        ),
        404,
        "user.not_found",
    )
    assert_problem(
        await client.post(
            f"{base}/members",
            headers=h,
            json={"user_id": g.outsider.id, "role": "member", "region": "EUR"},
        ),
        422,
        "group.invalid_region_scope",
    )
    assert_problem(
        await client.post(
            f"{base}/members", headers=h, json={"user_id": g.outsider.id, "role": "coordinator"}
        ),
        422,
        "group.coordinator_needs_totp",
    )
    assert_problem(
        await client.delete(f"{base}/members/{g.coordinator.id}", headers=h),
        409,
        "group.last_coordinator",
    )
    assert_problem(
        await client.patch(
            f"{base}/members/{g.coordinator.id}", headers=h, json={"role": "member"}
        ),
        409,
        "group.last_coordinator",
    )
    assert await session.scalar(select(func.count()).select_from(MembershipEvent)) == count
    live = await session.scalar(
        select(func.count()).select_from(Membership).where(Membership.removed_at.is_(None))
    )
    assert live == 4


async def test_groups_do_not_leak_across(client: httpx.AsyncClient, session: AsyncSession):
    """A member of group A gets the same 404 for group B as for a group that does not exist."""
    a = await f.group_with_roles(client, session)
    b = await f.group_with_roles(client, session)
    r = await client.get(f"/api/v1/groups/{b.group_id}/members", headers=a.coordinator.headers)
    missing = await client.get(
        "/api/v1/groups/00000000-0000-0000-0000-00000000000b/members", headers=a.coordinator.headers
    )
    assert r.status_code == missing.status_code == 404 and r.json() == missing.json()
    mine = (await client.get("/api/v1/groups", headers=a.member.headers)).json()
    assert [x["id"] for x in mine] == [a.group_id]


async def test_event_log_pagination(client: httpx.AsyncClient, session: AsyncSession):
    """The membership log pages with cursors and also resumes from `after_seq`."""
    g = await f.group_with_roles(client, session)
    url = f"/api/v1/groups/{g.group_id}/events"
    first = (await client.get(url, headers=g.observer.headers, params={"limit": 4})).json()
    assert [e["seq"] for e in first["items"]] == [1, 2, 3, 4]
    rest = (
        await client.get(url, headers=g.observer.headers, params={"cursor": first["next_cursor"]})
    ).json()
    assert [e["seq"] for e in rest["items"]] == [5, 6]
    tail = (await client.get(url, headers=g.observer.headers, params={"after_seq": 5})).json()
    assert [e["seq"] for e in tail["items"]] == [6]
    other = await f.group_with_roles(client, session)
    r = await client.get(
        f"/api/v1/groups/{other.group_id}/events",
        headers=other.observer.headers,
        params={"cursor": first["next_cursor"]},
    )
    assert_problem(r, 400, "core.invalid_cursor")
