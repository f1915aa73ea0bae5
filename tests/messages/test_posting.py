"""The single-message post served as plain ASGI (`app.messages.posting`) answers exactly as the
FastAPI route it stands in for: same statuses, problem documents and headers, same order of
checks, for every kind of bad request."""

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.deps import get_session
from app.messages.posting import SinglePostRoute
from tests import factories as f
from tests.factories import GroupSetup
from tests.messages.helpers import envelope, message_id

Request = Callable[[GroupSetup], dict[str, Any]]


def _without_single_post_route(app: FastAPI) -> ASGIApp:
    """The app's middleware stack as `create_app` builds it, minus `SinglePostRoute`: every
    request goes through the same middleware, then FastAPI's router and dependencies."""
    kept = [m for m in app.user_middleware if m.cls is not SinglePostRoute]
    assert len(kept) == len(app.user_middleware) - 1
    every = app.user_middleware
    app.user_middleware = kept
    try:
        stack = app.build_middleware_stack()
    finally:
        app.user_middleware = every

    async def routed(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app  # as Starlette's __call__ sets it before its stack
        await stack(scope, receive, send)

    return routed


@pytest.fixture
async def via_fastapi(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_without_single_post_route(app))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _body(g: GroupSetup, **overrides: Any) -> dict[str, Any]:
    mid = message_id()
    body = {
        "kind": "alert",
        "client_msg_id": mid,
        "envelope": envelope(g.member, g.group_id, client_msg_id=mid),
    }
    return body | overrides


def _as_member(g: GroupSetup, **request: Any) -> dict[str, Any]:
    return {"headers": g.member.headers} | request


BAD_REQUESTS: dict[str, Request] = {
    "no token": lambda g: {"json": _body(g)},
    "unknown token": lambda g: {"headers": {"Authorization": "Bearer nope"}, "json": _body(g)},
    "not a bearer token": lambda g: {
        "headers": {"Authorization": g.member.headers["Authorization"].replace("Bearer", "Basic")},
        "json": _body(g),
    },
    "outsider": lambda g: {"headers": g.outsider.headers, "json": _body(g)},
    "observer": lambda g: {"headers": g.observer.headers, "json": _body(g)},
    "unknown group": lambda g: _as_member(g, json=_body(g), group_id=str(uuid.uuid4())),
    "not JSON, before authentication": lambda _: {
        "headers": {"Content-Type": "application/json"},
        "content": b'{"kind": ',
    },
    "empty body": lambda g: _as_member(g, content=b""),
    "JSON sent as text/plain": lambda g: _as_member(
        g,
        headers=g.member.headers | {"Content-Type": "text/plain"},
        content=json.dumps(_body(g)).encode(),
    ),
    "JSON with +json subtype": lambda g: _as_member(
        g,
        headers=g.member.headers | {"Content-Type": "application/problem+json; charset=utf-8"},
        content=json.dumps(_body(g, kind="receipt")).encode(),
    ),
    "no content type": lambda g: _as_member(g, content=json.dumps(_body(g)).encode()),
    "a list, not an object": lambda g: _as_member(g, json=[_body(g)]),
    "unknown kind": lambda g: _as_member(g, json=_body(g, kind="gossip")),
    "server-only kind": lambda g: _as_member(g, json=_body(g, kind="membership")),
    "missing envelope": lambda g: _as_member(g, json={"kind": "alert", "client_msg_id": "x"}),
    "envelope not base64": lambda g: _as_member(g, json=_body(g, envelope="***")),
    "envelope of another device": lambda g: _as_member(
        g, json=_body(g, envelope=envelope(g.observer, g.group_id))
    ),
    "client_msg_id not the envelope's": lambda g: _as_member(
        g, json=_body(g, client_msg_id=message_id())
    ),
    "prenotification kind": lambda g: _as_member(g, json=_body(g, kind="prenotification")),
    "reply to the future": lambda g: _as_member(g, json=_body(g, parent_seq=10_000)),
    "body over the request limit": lambda g: _as_member(g, content=b"x" * 1_100_000),
}


async def _send(client: httpx.AsyncClient, g: GroupSetup, request: dict[str, Any]) -> Any:
    group_id = request.pop("group_id", g.group_id)
    return await client.post(f"/api/v1/groups/{group_id}/messages", **request)


def _comparable(response: httpx.Response) -> tuple[int, str, str | None, Any]:
    return (
        response.status_code,
        response.headers["content-type"],
        response.headers.get("www-authenticate"),
        response.json(),
    )


async def test_bad_posts_are_answered_as_fastapi_answers_them(
    client: httpx.AsyncClient, via_fastapi: httpx.AsyncClient, session: AsyncSession
):
    g = await f.group_with_roles(client, session)
    for name, make in BAD_REQUESTS.items():
        plain = await _send(client, g, make(g))
        routed = await _send(via_fastapi, g, make(g))
        assert plain.status_code >= 400, (name, plain.text)
        assert _comparable(plain) == _comparable(routed), name
        assert "x-request-id" in plain.headers, name


async def test_accepted_posts_and_replays_match_the_fastapi_route(
    client: httpx.AsyncClient, via_fastapi: httpx.AsyncClient, session: AsyncSession
):
    g = await f.group_with_roles(client, session)
    url = f"/api/v1/groups/{g.group_id}/messages"
    first, second = _body(g), _body(g)
    plain = await client.post(url, headers=g.member.headers, json=first)
    routed = await via_fastapi.post(url, headers=g.member.headers, json=second)
    assert (plain.status_code, routed.status_code) == (201, 201)
    assert routed.json()["seq"] == plain.json()["seq"] + 1
    assert plain.json().keys() == routed.json().keys()
    # Each path replays what the other stored, and refuses a changed reuse the same way.
    replayed = await via_fastapi.post(url, headers=g.member.headers, json=first)
    assert (replayed.status_code, replayed.json()) == (200, plain.json())
    reused = _body(g, client_msg_id=second["client_msg_id"])
    reused["envelope"] = envelope(
        g.member, g.group_id, "other", client_msg_id=reused["client_msg_id"]
    )
    conflict = [
        await c.post(url, headers=g.member.headers, json=reused) for c in (client, via_fastapi)
    ]
    assert _comparable(conflict[0]) == _comparable(conflict[1])
    f.assert_problem(conflict[0], 409, "messages.client_msg_id_reused")


async def test_archived_groups_refuse_both_ways(
    client: httpx.AsyncClient, via_fastapi: httpx.AsyncClient, session: AsyncSession
):
    g = await f.group_with_roles(client, session)
    await f.archive(client, g)
    answers = [await _send(c, g, _as_member(g, json=_body(g))) for c in (client, via_fastapi)]
    assert _comparable(answers[0]) == _comparable(answers[1])
    assert answers[0].status_code == 409


async def test_only_the_single_post_skips_fastapis_router(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
):
    """FastAPI's dependencies run for every request its router serves; the single post with a
    UUID group id never gets there (the others, the batch and a malformed id, do)."""
    g = await f.group_with_roles(client, session)
    routed: list[str] = []

    async def recording_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
        routed.append(f"{conn.scope['method']} {conn.url.path}")
        async for request_session in get_session(conn):
            yield request_session

    app.dependency_overrides[get_session] = recording_session
    try:
        posted = await client.post(
            f"/api/v1/groups/{g.group_id}/messages", headers=g.member.headers, json=_body(g)
        )
        batch = await client.post(
            f"/api/v1/groups/{g.group_id}/messages/batch",
            headers=g.member.headers,
            json={"messages": [_body(g)]},
        )
        not_a_uuid = await client.post(
            "/api/v1/groups/not-a-uuid/messages", headers=g.member.headers, json=_body(g)
        )
    finally:
        del app.dependency_overrides[get_session]
    assert (posted.status_code, batch.status_code) == (201, 200)
    assert "x-request-id" in posted.headers  # the app's middleware ran all the same
    f.assert_problem(not_a_uuid, 422, "core.invalid_input")
    assert routed == [
        f"POST /api/v1/groups/{g.group_id}/messages/batch",
        "POST /api/v1/groups/not-a-uuid/messages",
    ]
