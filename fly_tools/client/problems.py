"""Validation errors in words a person or a model can act on: which field, what to give.

pydantic's own messages carry its internals: a union's members appear in the error's
location (``state.function-after[_some_states(), ...]``), a shared number check says
"like 8080" for a size in GB, and a toolkit's bound app reads as "Input should be 'web'".
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Iterator
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

_UNION_MEMBER = re.compile(r"[\[(]|^(str|int|float|bool|none|list|dict|bytes|decimal)$")
_WHOLE_EXAMPLE = "a whole number like 8080"


def describe_problems(error: ValidationError, model: type[BaseModel]) -> list[str]:
    """One ``field: problem`` line per bad field, phrased as the fix, without repeats."""
    problems: list[str] = []
    for item in plain_errors(error.errors(include_url=False, include_input=False)):
        line = describe_problem(item, model)
        if line not in problems:
            problems.append(line)
    return problems


def plain_errors(errors: Iterable[ErrorDetails]) -> Iterator[ErrorDetails]:
    """The errors with union members taken out of their locations, one per union.

    A value no member of a union accepts fails once per member; the first member's
    message (the plain value's, before the list's) stands for them all.
    """
    unions: set[tuple[int | str, ...]] = set()
    for item in errors:
        location = tuple(item["loc"])
        member_at = next((n for n, part in enumerate(location) if _is_member(part)), None)
        if member_at is None:
            yield item
            continue
        if location[:member_at] in unions:
            continue
        unions.add(location[:member_at])
        yield {**item, "loc": tuple(part for part in location if not _is_member(part))}


def describe_problem(item: ErrorDetails, model: type[BaseModel]) -> str:
    """``field: problem`` for one error of ``model``."""
    location = [str(part) for part in item["loc"]]
    field = location[0] if location else "arguments"
    info = model.model_fields.get(field) if len(location) == 1 else None
    if item["type"] == "missing" and info is not None:
        return f"{field}: required ({info.description})"
    if item["type"] == "extra_forbidden":
        return f"{field}: not an argument here; valid: {', '.join(model.model_fields)}"
    bound = _bound_value(info.annotation) if info is not None and field == "app_name" else None
    if bound is not None and item["type"] == "literal_error":
        return f"app_name: this toolkit is bound to app {bound}; leave app_name out"
    message = item["msg"].removeprefix("Value error, ")
    if _WHOLE_EXAMPLE in message:
        message = message.replace(_WHOLE_EXAMPLE, "a whole number" + _range(info))
    return f"{'.'.join(location) or field}: {message}"


def _is_member(part: int | str) -> bool:
    return isinstance(part, str) and _UNION_MEMBER.search(part) is not None


def _bound_value(annotation: Any) -> str | None:
    """The one value of a ``Literal['web']`` (a toolkit's bound app), else ``None``."""
    if typing.get_origin(annotation) is typing.Literal:
        values = typing.get_args(annotation)
        if len(values) == 1 and isinstance(values[0], str):
            return values[0]
    return None


def _range(info: Any) -> str:
    """`` from 1 to 600`` / `` of at least 1`` from the field's bounds; empty without any."""
    low = high = None
    for bound in getattr(info, "metadata", ()):
        if isinstance(bound, Ge):
            low = bound.ge
        elif isinstance(bound, Gt):
            low = bound.gt + 1  # type: ignore[operator]
        elif isinstance(bound, Le):
            high = bound.le
        elif isinstance(bound, Lt):
            high = bound.lt - 1  # type: ignore[operator]
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" of at least {low}"
    if high is not None:
        return f" of at most {high}"
    return ""
