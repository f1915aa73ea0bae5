"""`/docs` (Swagger UI) and `/redoc` served from this server alone: customs networks are
often closed, and a page that loads its scripts from a CDN is blank there.

The assets are the ones the `fastapi-offline` package ships (Swagger UI's bundle and
stylesheet, ReDoc's standalone bundle); the pages and their start-up scripts are ours, so no
inline script runs and the pages carry a strict Content-Security-Policy (`DOCS_CSP`).
"""

from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from app.core.errors import NotFound

ASSET_DIR: Final = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH: Final = "/docs/assets"
_ASSETS: Final = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# Swagger UI and ReDoc set inline styles (React, styled-components) and ReDoc starts a
# worker from a blob: nothing else is allowed, and no script but our own files.
DOCS_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS: Final = {
    "Content-Security-Policy": DOCS_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_SWAGGER_INIT: Final = """window.ui = SwaggerUIBundle({
  url: document.currentScript.dataset.openapi,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""
_REDOC_INIT: Final = """Redoc.init(document.currentScript.dataset.openapi, {},
  document.getElementById("redoc"));
"""
_SCRIPTS: Final = {"swagger-init.js": _SWAGGER_INIT, "redoc-init.js": _REDOC_INIT}


def _page(title: str, root: str, head: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        f'<link rel="icon" href="{root}{ASSETS_PATH}/favicon.png">{head}</head>'
        f"<body>{body}</body></html>"
    )


def _init_script(root: str, name: str, openapi_url: str) -> str:
    return f'<script src="{root}{ASSETS_PATH}/{name}" data-openapi="{root}{openapi_url}"></script>'


def install_docs(app: FastAPI) -> None:
    """Add the two pages and their assets (create the app with docs_url=redoc_url=None)."""
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = _page(
            f"{title} API",
            root,
            f'<link rel="stylesheet" href="{root}{ASSETS_PATH}/swagger-ui.css">',
            '<div id="swagger-ui"></div>'
            f'<script src="{root}{ASSETS_PATH}/swagger-ui-bundle.js"></script>'
            + _init_script(root, "swagger-init.js", openapi_url),
        )
        return HTMLResponse(html, headers=_HEADERS)

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = _page(
            f"{title} API",
            root,
            "",
            '<div id="redoc"></div>'
            f'<script src="{root}{ASSETS_PATH}/redoc.standalone.js"></script>'
            + _init_script(root, "redoc-init.js", openapi_url),
        )
        return HTMLResponse(html, headers=_HEADERS)

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name in _SCRIPTS:
            return Response(_SCRIPTS[name], media_type="text/javascript", headers=_HEADERS)
        if name not in _ASSETS:
            raise NotFound("No such documentation asset.")
        return FileResponse(ASSET_DIR / name, media_type=_ASSETS[name], headers=_HEADERS)
