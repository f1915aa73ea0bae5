"""Serve the built browser client (`clients/web/dist`) at `/`, below every API route.

`WebRoute` matches only a `GET` or `HEAD` outside `/api`, `/docs` and `/redoc`, and is added
last: every other request (websockets, other methods, unknown API paths) meets the router as
before, with its 404 or 405 problem. A `GET` for a client-side route (`/groups/x`) gets
`index.html`; a missing file (a path under `/assets/` or with a dot in its last segment) gets
the 404 problem, so a wrong URL never answers HTML to a script.

Every answer carries a strict Content-Security-Policy: scripts, styles and images from this
origin only (the build has no inline script or style), connections to this origin and its
websocket, no framing. Vite names the files under `assets/` by their content hash, so they are
cached for a year; `index.html` and the other fixed names (service worker, manifest) are
revalidated on every load, so a new build reaches users at once.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Mount
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Receive, Scope, Send

from app.core.asgi import route_path
from app.core.errors import NotFound

DEFAULT_DIST: Final = Path(__file__).resolve().parents[2] / "clients" / "web" / "dist"
ASSETS_PREFIX: Final = "/assets/"
HASHED_CACHE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"
_API_PREFIXES: Final = ("/api/", "/docs/", "/redoc/")
_HOST: Final = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_MEDIA_TYPES: Final = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}


class WebClientNotBuilt(NotFound):
    code, title = "web.not_built", "The web client is not built"


def content_security_policy(ws_origin: str | None) -> str:
    """The policy of every page and file of the client; `ws_origin` is this server's own
    websocket origin (CSP level 3 lets `'self'` cover it too; older browsers need it named)."""
    connect = "'self'" + (f" {ws_origin}" if ws_origin else "")
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"font-src 'self'; connect-src {connect}; manifest-src 'self'; worker-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _ws_origin(scope: Scope) -> str | None:
    """`ws://host:port` (or `wss://`) of the request, when its Host header is well formed."""
    host = Headers(scope=scope).get("host", "")
    if not _HOST.match(host):
        return None
    return ("wss" if scope.get("scheme") == "https" else "ws") + "://" + host


def security_headers(scope: Scope) -> dict[str, str]:
    """The headers every answer of the client carries."""
    return {
        "Content-Security-Policy": content_security_policy(_ws_origin(scope)),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    }


@dataclass(frozen=True)
class _Build:
    """The files of one build, by URL path: only these are ever served (no path is joined
    from the request, so nothing outside `dist/` can be reached)."""

    stamp: float
    files: dict[str, Path]


def _scan(dist: Path) -> _Build | None:
    index = dist / "index.html"
    try:
        stamp = index.stat().st_mtime
    except OSError:
        return None
    files = {
        "/" + path.relative_to(dist).as_posix(): path for path in dist.rglob("*") if path.is_file()
    }
    return _Build(stamp=stamp, files=files)


def _file_response(file: Path, media_type: str, cache: str) -> FileResponse:
    """The file with its ETag and Last-Modified set now, so a revalidation can be answered."""
    return FileResponse(
        file, media_type=media_type, headers={"Cache-Control": cache}, stat_result=file.stat()
    )


class WebClient(StaticFiles):
    """The ASGI app mounted at `/` (see the module docstring). A build made while the server
    runs is picked up on the next request: `index.html`'s modification time is checked.
    Starlette's `StaticFiles` answers revalidations (`If-None-Match`, `If-Modified-Since`);
    the lookup is this class's own, for the fixed file set and the client-route fallback."""

    def __init__(self, dist: Path) -> None:
        super().__init__(directory=dist, check_dir=False)
        self.dist = dist
        self._build: _Build | None = None

    def build(self) -> _Build | None:
        """The current build, rescanned when `index.html` changed; None when there is none."""
        try:
            stamp = (self.dist / "index.html").stat().st_mtime
        except OSError:
            self._build = None
            return None
        if self._build is None or self._build.stamp != stamp:
            self._build = _scan(self.dist)
        return self._build

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        build = self.build()
        if build is None:
            raise WebClientNotBuilt(
                "The web client is not built: run scripts/serve.sh, or `npm ci && npm run "
                f"build` in clients/web (looked in {self.dist}). The API is served at /api/v1."
            )
        response = self._file(build, path) or self._index(build, path)
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            response = NotModifiedResponse(response.headers)
        response.headers.update(security_headers(scope))
        await response(scope, receive, send)

    def _file(self, build: _Build, path: str) -> Response | None:
        file = build.files.get(path)
        if file is None or path == "/index.html":
            return None
        cache = HASHED_CACHE if path.startswith(ASSETS_PREFIX) else REVALIDATE
        media_type = _MEDIA_TYPES.get(file.suffix, "application/octet-stream")
        return _file_response(file, media_type, cache)

    def _index(self, build: _Build, path: str) -> Response:
        last = path.rsplit("/", 1)[-1]
        if path != "/index.html" and (path.startswith(ASSETS_PREFIX) or "." in last):
            raise HTTPException(status_code=404)  # a file that is not there: never HTML
        return _file_response(build.files["/index.html"], _MEDIA_TYPES[".html"], REVALIDATE)


class WebRoute(Mount):
    """`WebClient` at `/`, matching only what the client may answer (module docstring)."""

    def __init__(self, dist: Path) -> None:
        super().__init__("", app=WebClient(dist), name="web")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        path = route_path(scope)
        if path in ("/api", "/docs", "/redoc") or path.startswith(_API_PREFIXES):
            return Match.NONE, {}
        return super().matches(scope)
