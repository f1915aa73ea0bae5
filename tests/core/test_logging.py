"""No token in any log line: the formatter every handler uses redacts them, whatever logger
wrote the line and wherever in it the token sits."""

import json
import logging

from app.core.logging import JsonFormatter, configure_logging
from app.core.security import new_token


def _line(logger: str, msg: str, *args: object, **extra: object) -> str:
    record = logging.LogRecord(logger, logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    line = JsonFormatter().format(record)
    json.loads(line)  # still one JSON object
    return line


def test_tokens_and_queries_are_redacted_everywhere_in_a_line():
    """uvicorn's websocket line (path with query), a message argument, an extra field."""
    token, code = new_token("cdn"), new_token("enrol")
    lines = [
        _line(
            "uvicorn.error",
            '%s - "WebSocket %s" [accepted]',
            "127.0.0.1:5000",
            f"/api/v1/ws?token={token}&cursor=c1.abc",
        ),
        _line("cordon.realtime", "frame %s", json.dumps({"type": "auth", "token": token})),
        _line("cordon.access", "request", path="/api/v1/auth/enrolment/complete", note=code),
    ]
    for line in lines:
        assert token not in line and code not in line, line
        assert token[:12] not in line and "c1.abc" not in line
    assert "/api/v1/ws?[redacted]" in lines[0]


def test_chatty_libraries_stay_above_debug():
    """At DEBUG, SQLAlchemy and websockets would log parameters, rows and frames."""
    try:
        configure_logging("DEBUG")
        assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("websockets.server").getEffectiveLevel() == logging.INFO
    finally:
        configure_logging("INFO")
