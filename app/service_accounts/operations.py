"""The operations a service account can be granted, apart from `scopes` (which needs the
models) so that `cordon-server` can offer them as choices without importing the database
layer (issue 12, "Speed")."""

from enum import StrEnum


class Operation(StrEnum):
    """The operations a service account can be granted (`--operation` in the CLI)."""

    CASES_POST = "cases.post"  # post, amend and import cases (alert and chat items)
    PRENOTIFICATIONS_SEND = "prenotifications.send"
    LIBRARY_READ = "library.read"
    LIBRARY_PUBLISH = "library.publish"
