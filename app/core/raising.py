"""Which problems a function can raise: read from its source and from the source of the
app functions it calls, so a route's OpenAPI entry follows its code (`app.core.routing`).

A `raise SomeError(...)` whose class is a `CordonError` counts, and so does every such raise
in a function of the `app` package that it calls by a name the module can resolve
(`service.get(...)`, `ensure_writable(...)`). What cannot be resolved statically (a method
of an object passed in, an error held in a variable) is declared with
`app.core.routing.raises` on the function that raises or forwards it; the API fuzzing test
fails on any status a route gives but does not list.
"""

import ast
import builtins
import functools
import inspect
import textwrap
from collections.abc import Callable
from types import FunctionType
from typing import Any

from app.core.errors import CordonError

RAISES = "__cordon_raises__"
APP_PACKAGE = "app."


@functools.cache
def _tree(func: FunctionType) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return None


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return namespace.get(node.id, getattr(builtins, node.id, None))
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, namespace)
        return None if base is None else getattr(base, node.attr, None)
    return None


def _is_error(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, CordonError)


def _handled(handler: ast.ExceptHandler, namespace: dict[str, Any]) -> tuple[type, ...]:
    if handler.type is None:
        return (BaseException,)
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    resolved = (_resolve(name, namespace) for name in names)
    return tuple(t for t in resolved if isinstance(t, type))


def _visit(node: ast.AST, namespace: dict[str, Any]) -> set[type[CordonError]]:
    """Errors raised under `node`, less those an enclosing `try` of it catches."""
    if isinstance(node, ast.Try):
        caught: tuple[type, ...] = ()
        for handler in node.handlers:
            caught += _handled(handler, namespace)
        found = {
            error
            for child in node.body
            for error in _visit(child, namespace)
            if not issubclass(error, caught)
        }
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            found |= _visit(child, namespace)
        return found
    found = set()
    if isinstance(node, ast.Raise) and node.exc is not None:
        target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        error = _resolve(target, namespace)
        if _is_error(error):
            found.add(error)
    elif isinstance(node, ast.Call):
        callee = _resolve(node.func, namespace)
        if callable(callee) and not isinstance(callee, type):
            found |= raised_by(callee)
    for child in ast.iter_child_nodes(node):
        found |= _visit(child, namespace)
    return found


_IN_PROGRESS: set[Callable[..., Any]] = set()


@functools.cache
def raised_by(func: Callable[..., Any]) -> frozenset[type[CordonError]]:
    """The `CordonError` classes `func` can raise, directly or through the app functions it
    calls (a recursive call adds nothing new)."""
    func = inspect.unwrap(func)
    declared = frozenset(getattr(func, RAISES, ()))
    if (
        not isinstance(func, FunctionType)
        or not func.__module__.startswith(APP_PACKAGE)
        or func in _IN_PROGRESS
    ):
        return declared
    tree = _tree(func)
    if tree is None:
        return declared
    _IN_PROGRESS.add(func)
    try:
        return declared | frozenset(_visit(tree, func.__globals__))
    finally:
        _IN_PROGRESS.discard(func)
