"""The browser client served at `/`: security and cache headers, the client-side-route
fallback, the API untouched beside it, and a server without a build."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from tests.conftest import make_settings

INDEX = b'<!doctype html><html><head><script type="module" src="/assets/index-3f9a.js">'
SCRIPT = b"console.log('cordon')"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build laid out as `npm run build` leaves it."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "index-3f9a.js").write_bytes(SCRIPT)
    (root / "assets" / "index-77c1.css").write_bytes(b"body{margin:0}")
    (root / "sw.js").write_bytes(b"self.addEventListener('fetch', () => {})")
    (root / "manifest.webmanifest").write_bytes(b'{"name":"Cordon"}')
    return root


async def _client(database_url: str, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url, web_dist_dir=str(dist)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8240") as c:
        yield c
    await app.state.engine.dispose()


@pytest.fixture
async def web(database_url: str, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(database_url, dist):
        yield c


def _csp(response: httpx.Response) -> dict[str, str]:
    directives = response.headers["content-security-policy"].split(";")
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2] for d in directives}


async def test_index_is_served_uncached_with_a_strict_policy(web: httpx.AsyncClient):
    r = await web.get("/")
    assert r.status_code == 200 and r.content == INDEX
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    csp = _csp(r)
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert csp["connect-src"] == "'self' ws://127.0.0.1:8240"
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    # The camera for scanning a link code or fingerprint QR, from this origin only.
    assert r.headers["permissions-policy"] == "camera=(self), microphone=(), geolocation=()"


async def test_https_names_the_secure_websocket_origin(database_url: str, dist: Path):
    app = create_app(make_settings(database_url, web_dist_dir=str(dist)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://cordon.example") as c:
        r = await c.get("/login")
    await app.state.engine.dispose()
    assert _csp(r)["connect-src"] == "'self' wss://cordon.example"


async def test_a_forged_host_is_not_copied_into_the_policy(web: httpx.AsyncClient):
    r = await web.get("/", headers={"host": "evil; script-src *"})
    assert r.status_code == 200
    assert _csp(r)["connect-src"] == "'self'"
    assert _csp(r)["script-src"] == "'self'"


async def test_hashed_assets_are_cached_for_a_year(web: httpx.AsyncClient):
    r = await web.get("/assets/index-3f9a.js")
    assert r.status_code == 200 and r.content == SCRIPT
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-security-policy" in r.headers
    css = await web.get("/assets/index-77c1.css")
    assert css.headers["content-type"].startswith("text/css")


async def test_fixed_names_are_revalidated(web: httpx.AsyncClient):
    sw = await web.get("/sw.js")
    assert sw.status_code == 200 and sw.headers["cache-control"] == "no-cache"
    manifest = await web.get("/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert manifest.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/login", "/groups/5f0c", "/auth/enrol/", "/index.html"])
async def test_client_routes_get_the_index(web: httpx.AsyncClient, path: str):
    r = await web.get(path)
    assert r.status_code == 200 and r.content == INDEX
    assert r.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/assets/gone-1234.js", "/favicon.ico", "/groups/x/a.png"])
async def test_a_missing_file_is_a_404_problem_not_html(web: httpx.AsyncClient, path: str):
    r = await web.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "core.not_found"


async def test_no_path_escapes_the_build(web: httpx.AsyncClient, dist: Path):
    (dist.parent / "secret.txt").write_text("not for you")
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        r = await web.get(path)
        assert b"not for you" not in r.content


async def test_the_api_and_its_docs_are_unaffected(web: httpx.AsyncClient):
    assert (await web.get("/healthz")).json() == {"status": "ok"}
    unknown = await web.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["code"] == "core.not_found"
    assert (await web.get("/api")).json()["code"] == "core.not_found"
    wrong_method = await web.get("/api/v1/auth/login")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "core.method_not_allowed"
    me = await web.get("/api/v1/users/me")
    assert me.status_code == 401 and me.json()["code"] == "auth.invalid_token"
    docs = await web.get("/docs")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert (await web.get("/openapi.json")).json()["info"]["title"] == "Cordon"
    assert (await web.get("/docs/assets/nothing.js")).status_code == 404


async def test_other_methods_keep_the_routers_answers(web: httpx.AsyncClient):
    """The client answers only GET/HEAD: a POST elsewhere is still 404, a wrong method on a
    route still 405."""
    r = await web.post("/", json={})
    assert r.status_code == 404 and r.json()["code"] == "core.not_found"
    r = await web.post("/healthz")
    assert r.status_code == 405 and r.json()["code"] == "core.method_not_allowed"
    assert (await web.head("/login")).status_code == 200


async def test_a_build_made_while_running_is_picked_up(tmp_path: Path, database_url: str):
    dist = tmp_path / "later"
    async for web in _client(database_url, dist):
        assert (await web.get("/")).json()["code"] == "web.not_built"
        (dist / "assets").mkdir(parents=True)
        (dist / "index.html").write_bytes(INDEX)
        (dist / "assets" / "index-3f9a.js").write_bytes(SCRIPT)
        assert (await web.get("/")).content == INDEX
        assert (await web.get("/assets/index-3f9a.js")).content == SCRIPT


async def test_without_a_build_the_api_runs_and_root_says_why(tmp_path: Path, database_url: str):
    async for web in _client(database_url, tmp_path / "missing"):
        r = await web.get("/")
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["code"] == "web.not_built"
        assert "not built" in body["detail"] and "scripts/serve.sh" in body["detail"]
        assert (await web.get("/groups/x")).json()["code"] == "web.not_built"
        assert (await web.get("/healthz")).json() == {"status": "ok"}
        r = await web.get("/api/v1/users/me")
        assert r.json()["code"] == "auth.invalid_token"


async def test_a_revalidated_index_costs_no_body(web: httpx.AsyncClient):
    """`no-cache` means "ask first": an unchanged index answers 304 to its ETag."""
    first = await web.get("/")
    again = await web.get("/", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "no-cache"
    assert "content-security-policy" in again.headers
    stale = await web.get("/", headers={"if-none-match": '"an-older-build"'})
    assert stale.status_code == 200 and stale.content == INDEX
