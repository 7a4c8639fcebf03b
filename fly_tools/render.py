"""The one renderer for text others wrote (Fly's names, the agent's arguments), for every surface a person reads.

Text a person reads before saying yes can come from Fly (a machine name, an image
reference, metadata) or from the agent (a command, env values). Either can hold
characters that move a terminal's cursor, reorder a line (bidi controls), hide
(zero-width characters, soft hyphens), break a line, or look like the punctuation that
frames a description. Everything shown goes through here:

* :func:`inert` escapes every control, format, separator and unassigned character, so
  ``"\\x1b[2K"`` reads as ``\\x1b[2K`` and U+202E as ``\\u202e``, and caps long text
  with a mark saying how much was cut and where the whole text is;
* :func:`quoted` puts a value in double quotes that nothing inside can close or mimic:
  quotes, backslashes and non-ASCII punctuation or spaces (fullwidth quotes and
  parentheses, U+3000) are escaped as well;
* :func:`identifier` also flags non-ASCII letters in a name, id or image reference:
  ``wеb [contains non-ASCII: U+0435 CYRILLIC SMALL LETTER IE]``.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

FULL_TEXT = "the audit record / approvals show"
"""Where a cut text can be read whole, named in every cut mark."""
CUT_MARK = "… [cut: "
"""How every cut mark begins."""
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Categories never shown raw: controls (C0, C1, DEL), format (bidi, zero-width, soft
hyphen, BOM), surrogates, private use, unassigned, line and paragraph separators."""
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MAX_FLAGGED = 3


TRAIL_LINE = 600
"""Characters of one audit sentence shown in a trail before the cut mark."""
TRAIL_WHERE = "fly-tools audit --json"
"""Where a trail's cut sentences can be read whole."""


def escape_char(char: str) -> str:
    """``char`` as it is shown inside a value: itself, or an escape such as ``\\u202e``."""
    if char in _SHORT:
        return _SHORT[char]
    if unicodedata.category(char) not in _HIDDEN:
        return char
    point = ord(char)
    if point <= 0xFF:
        return f"\\x{point:02x}"
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


def is_hidden(char: str) -> bool:
    """Whether ``char`` is one that :func:`escape_char` never lets through raw."""
    return char in _SHORT or unicodedata.category(char) in _HIDDEN


def cut_mark(more: int, where: str = FULL_TEXT) -> str:
    """``… [cut: 3,912 more characters; full text in the audit record / approvals show]``."""
    return f"{CUT_MARK}{more:,} more characters; full text in {where}]"


def inert(text: object, *, limit: int | None = None, where: str = FULL_TEXT) -> str:
    """``text`` with every control, format and separator character escaped.

    Args:
        text: anything; non-strings are shown as ``str(text)``.
        limit: at most this many characters of ``text`` are shown; the rest is replaced
            by :func:`cut_mark` (``None``: all of it).
        where: where the whole text can be read, for the cut mark.
    """
    raw = text if isinstance(text, str) else str(text)
    shown, rest = (
        (raw, 0) if limit is None or len(raw) <= limit else (raw[:limit], len(raw) - limit)
    )
    body = "".join(escape_char(c) for c in shown)
    return body + (cut_mark(rest, where) if rest else "")


def inert_lines(text: str, *, indent: str = "") -> str:
    """``text`` kept on its own lines (``\\n`` only), each line :func:`inert`.

    For text made of lines on purpose (a description with its change set, a tool's
    answer): its line breaks stay, and a CR, U+2028 or NEL inside a line cannot start a
    new one.
    """
    return f"\n{indent}".join(inert(line) for line in text.split("\n"))


def quoted(value: object, *, limit: int | None = None, where: str = FULL_TEXT) -> str:
    """``value`` in double quotes that cannot be closed or imitated from inside.

    Strings are quoted; other JSON values (lists, objects, numbers) are written as compact JSON
    whose strings are quoted the same way. Backslashes, ASCII quotes and every
    non-ASCII punctuation, symbol-like space or hidden character are escaped, so a
    fullwidth quote (U+FF02) or parenthesis in a name reads as ``\\uff02``.

    Args:
        value: the value.
        limit: at most this many characters of each string are shown, then a cut mark
            (outside the quotes, so the cut is never mistaken for the value's end).
        where: where the whole text can be read.
    """
    if isinstance(value, str):
        shown = value if limit is None else value[:limit]
        text = '"' + "".join(_in_quotes(c) for c in shown) + '"'
        return text + (cut_mark(len(value) - len(shown), where) if len(shown) < len(value) else "")
    if isinstance(value, dict):
        items = (
            f"{quoted(str(k))}:{quoted(v, limit=limit, where=where)}" for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(quoted(v, limit=limit, where=where) for v in value) + "]"
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return quoted(str(value), limit=limit, where=where)


def _in_quotes(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if ord(char) < 0x80 or unicodedata.category(char)[0] not in "PZS":
        return escape_char(char)
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"


def identifier(value: object, *, limit: int | None = 200, where: str = FULL_TEXT) -> str:
    """A name, id or image reference: escaped, non-ASCII flagged with each character's name.

    ``registry.fly.io/wеb:v43 [contains non-ASCII: U+0435 CYRILLIC SMALL LETTER IE]``.
    """
    raw = value if isinstance(value, str) else str(value)
    return inert(raw, limit=limit, where=where) + non_ascii_flag(raw)


def quoted_identifier(value: object, *, limit: int | None = 200, where: str = FULL_TEXT) -> str:
    """:func:`quoted` with :func:`identifier`'s flag after the closing quote."""
    raw = value if isinstance(value, str) else str(value)
    return quoted(raw, limit=limit, where=where) + non_ascii_flag(raw)


def non_ascii_flag(text: str) -> str:
    """`` [contains non-ASCII: U+0435 CYRILLIC SMALL LETTER IE]`` for text with any; else ``""``."""
    found = list(dict.fromkeys(c for c in text if ord(c) >= 0x80))
    if not found:
        return ""
    named = [f"U+{ord(c):04X} {unicodedata.name(c, 'UNNAMED CHARACTER')}" for c in found]
    more = len(named) - _MAX_FLAGGED
    listed = ", ".join(named[:_MAX_FLAGGED]) + (f" and {more} more" if more > 0 else "")
    return f" [contains non-ASCII: {listed}]"


def mixed_scripts_flag(text: str) -> str:
    """`` [mixes scripts: CYRILLIC, LATIN]`` for text whose letters come from several scripts."""
    scripts = sorted(
        {
            unicodedata.name(c, "UNKNOWN").split(" ")[0]
            for c in text
            if unicodedata.category(c).startswith("L")
        }
    )
    return f" [mixes scripts: {', '.join(scripts)}]" if len(scripts) > 1 else ""


def agent_value(value: Any, *, limit: int | None = None, where: str = FULL_TEXT) -> str:
    """A value the agent chose: :func:`quoted`, flagged where it could pass for another.

    A word without spaces (an image reference, a name) is flagged for any non-ASCII
    character, as :func:`identifier` does; other text for mixing scripts.
    """
    text = quoted(value, limit=limit, where=where)
    if isinstance(value, str) and value and not any(c.isspace() for c in value):
        return text + non_ascii_flag(value)
    return text + mixed_scripts_flag(json.dumps(value, ensure_ascii=False, default=str))


__all__ = [
    "CUT_MARK",
    "FULL_TEXT",
    "agent_value",
    "cut_mark",
    "escape_char",
    "identifier",
    "inert",
    "inert_lines",
    "is_hidden",
    "mixed_scripts_flag",
    "non_ascii_flag",
    "quoted",
    "quoted_identifier",
]
