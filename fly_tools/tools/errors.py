"""Invalid-argument messages a model can act on: which field, what is wrong, how to fix it."""

from __future__ import annotations

from pydantic import ValidationError

from fly_tools.client.problems import plain_errors

_MAX_ERRORS = 8


def format_validation_error(tool: str, err: ValidationError) -> str:
    """One line per bad field, naming the field and the fix; says nothing was sent."""
    lines = []
    errors = list(plain_errors(err.errors(include_url=False, include_input=False)))
    for item in errors[:_MAX_ERRORS]:
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        lines.append(f"- {where}: {_fix(item['type'], item['msg'])}")
    more = len(errors) - _MAX_ERRORS
    if more > 0:
        lines.append(f"- ... and {more} more")
    return (
        f"Invalid arguments for {tool}; nothing was sent to Fly.\n"
        + "\n".join(lines)
        + "\nFix these arguments and call the tool again."
    )


def _fix(kind: str, message: str) -> str:
    message = message.removeprefix("Value error, ")
    if kind == "missing":
        return "required; give a value"
    if kind == "extra_forbidden":
        return "not an argument of this tool; remove it"
    if kind == "list_type":
        return 'must be a list (a JSON array), e.g. ["ls", "-la"] rather than "ls -la"'
    return message
