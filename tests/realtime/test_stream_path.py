"""Which websocket scopes `CordonApp` hands to the stream socket instead of FastAPI."""

import pytest

from app.core.asgi import route_path
from app.realtime.router import STREAM_PATH


@pytest.mark.parametrize(
    ("path", "root_path", "expected"),
    [
        ("/api/v1/ws", "", STREAM_PATH),
        ("/cordon/api/v1/ws", "/cordon", STREAM_PATH),  # behind a proxy's prefix
        ("/cordonx/api/v1/ws", "/cordon", "/cordonx/api/v1/ws"),  # not that prefix
        ("/api/v1/ws", "/cordon", STREAM_PATH),  # a server that left root_path out of path
        ("/api/v1/wsx", "", "/api/v1/wsx"),
    ],
)
def test_route_path_strips_only_the_mount_prefix(path: str, root_path: str, expected: str) -> None:
    assert route_path({"type": "websocket", "path": path, "root_path": root_path}) == expected
