"""Cursor pagination: opaque, MACed cursors scoped to the listing that issued them."""

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from app.core.deps import SettingsDep
from app.core.errors import InvalidInput
from app.core.routing import raises
from app.core.security import open_cursor, sign_cursor

T = TypeVar("T")


class InvalidCursor(InvalidInput):
    status, code, title = 400, "core.invalid_cursor", "Invalid cursor"


class Page(BaseModel, Generic[T]):
    """One page of a listing; pass `next_cursor` back to get the following page."""

    items: list[T]
    next_cursor: str | None = None


class PageParams:
    """Query parameters `cursor` and `limit`, with the cursor already verified."""

    def __init__(self, secret_key: str, cursor: str | None, limit: int) -> None:
        self._secret_key = secret_key
        self.raw_cursor = cursor
        self.limit = limit

    def position(self, scope: str) -> Any:
        """Where the previous page stopped, or None for the first page."""
        if self.raw_cursor is None:
            return None
        payload = open_cursor(self._secret_key, self.raw_cursor)
        if payload is None or payload.get("s") != scope or "k" not in payload:
            raise InvalidCursor("The cursor is not one this listing issued.")
        return payload["k"]

    def next_cursor(self, scope: str, rows: list[Any], key: Any) -> str | None:
        """A cursor after the last row, when the page came back full."""
        if len(rows) < self.limit:
            return None
        return sign_cursor(self._secret_key, {"s": scope, "k": key})


@raises(InvalidCursor)
def page_params(
    settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> PageParams:
    """Dependency that reads and checks the paging query parameters."""
    return PageParams(settings.secret_key, cursor, min(limit, settings.page_size_max))


PageDep = Annotated[PageParams, Depends(page_params)]
