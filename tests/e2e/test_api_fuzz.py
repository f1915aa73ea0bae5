"""Property-based fuzzing of the served OpenAPI document against a real server.

Schemathesis generates requests for every documented operation, from the schema (positive
cases) and against it (negative cases), and sends them to a uvicorn subprocess as an
outsider, a group member, the group's coordinator and a platform administrator. Every answer
must be what the schema promises: no 5xx, only documented statuses and content types, bodies
that match their schemas. Path group ids are pointed at the real group for the accounts in
it, so the fuzzer reaches the handlers rather than stopping at 404. Operations that would
lock the fuzzing account out of the rest of the run (log out, revoke its sessions or
devices, disable users) are left out; their refusals are covered by their domain's tests.

The number of examples is bounded (`EXAMPLES` per operation and account) so the test runs
in CI in about a minute; `CORDON_FUZZ_EXAMPLES` raises it for a longer hunt.
"""

import asyncio
import os
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.server import Server

EXAMPLES = int(os.environ.get("CORDON_FUZZ_EXAMPLES", "5"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
URL_LIMIT = 65_536
# Would end the account's own session or access in the middle of the run.
SELF_LOCKOUT = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/sessions/revoke-all"),
    ("POST", "/api/v1/devices/{device_id}/revoke"),
    ("POST", "/api/v1/users/{user_id}/disable"),
}


def _refused_by_the_http_parser(response: Any) -> bool:
    """uvicorn's own answer to a request line past its 64 KiB limit (a query of thousands of
    percent-encoded characters): plain text, before the app sees the request, so outside
    what the API schema describes."""
    content_type = response.headers.get("content-type") or [""]  # values are lists here
    return (
        response.status_code == 400
        and content_type[0].startswith("text/plain")
        and len(response.request.url) > URL_LIMIT
    )


def _fuzz_operation(operation: Any, base_url: str, token: str, group_id: str | None) -> None:
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    session = requests.Session()

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if group_id is not None and case.path_parameters and "group_id" in case.path_parameters:
            case.path_parameters["group_id"] = group_id
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=10)
        if _refused_by_the_http_parser(response):
            return
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def _fuzz(base_url: str, accounts: dict[str, tuple[str, str | None]]) -> list[str]:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    for loaded in schema.get_all_operations():
        operation = loaded.ok()
        if (operation.method.upper(), operation.path) in SELF_LOCKOUT:
            continue
        for name, (token, group_id) in accounts.items():
            try:
                _fuzz_operation(operation, base_url, token, group_id)
            except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports all
                failures.append(f"{name} {operation.method.upper()} {operation.path}: {exc}")
    return failures


async def test_every_answer_is_one_the_schema_documents(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """No 5xx, no undocumented status or content type, no body off its schema, for any
    generated request as an outsider, a member, the group's coordinator or an
    administrator."""
    g = await f.group_with_roles(client, session)
    admin = await f.actor(client, session, admin=True, totp=True)
    accounts = {
        "outsider": (g.outsider.token, None),
        "member": (g.member.token, g.group_id),
        "coordinator": (g.coordinator.token, g.group_id),
        "administrator": (admin.token, g.group_id),  # found the non-ASCII name 500
    }
    failures = await asyncio.to_thread(_fuzz, server.base, accounts)
    assert not failures, "\n\n".join(failures)
