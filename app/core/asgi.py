"""ASGI helpers for the routes `app.main.CordonApp` and `app.messages.posting` serve
outside FastAPI's router."""

from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """The path the routes see: without the `root_path` a proxy mounts the app under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path
