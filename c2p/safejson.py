"""Reading JSON from outside, and the text it carries, without surprises.

Every JSON body the gateway reads, and every JSON file it imports, goes through
`loads`; `text_problems` names each string that cannot be stored as text:

- nesting deeper than MAX_DEPTH is refused (Python's parser would raise
  RecursionError, a 500, at about a thousand levels, and code walking a value
  a few hundred levels deep would too; no C2P document nests past a dozen);
- a lone UTF-16 surrogate (`"\\ud800"` in JSON) is valid JSON but not Unicode
  text: PostgreSQL, UTF-8 encoders and every client would choke on it later;
- NUL (U+0000), which PostgreSQL text cannot hold;
- `NaN` and `Infinity` (Python's parser takes them, JSON has no such numbers and
  PostgreSQL's jsonb refuses them) and integers beyond ±2^53 (what a JavaScript
  client can represent; no C2P number comes near).

Plain Python: unit-tested in milliseconds.
"""
from __future__ import annotations

import json
import re

MAX_DEPTH = 64
MAX_INTEGER = 2 ** 53
NUL_REASON = "must not contain the NUL character (U+0000)"
SURROGATE_REASON = ("must be valid Unicode text: it contains a lone surrogate "
                    "(an escape such as \\ud800 without its pair)")
_SURROGATE = re.compile("[\ud800-\udfff]")


class TooDeep(ValueError):
    """The document nests deeper than MAX_DEPTH."""


class NotJson(ValueError):
    """Not JSON text. The message says where and why in words `c2p.reasons`
    translates, never the parser's own (English only) message."""


# The parser's messages (json.decoder, the same from its C scanner), as a reason says them.
PARSER_REASONS = {
    "Expecting value": "a value was expected",
    "Expecting property name enclosed in double quotes":
        "a property name in double quotes was expected",
    "Expecting ',' delimiter": "a comma was expected",
    "Expecting ':' delimiter": "a colon was expected",
    "Unterminated string starting at": "a string is not closed",
    "Invalid control character at": "a control character must be escaped",
    "Invalid \\escape": "a backslash escape is not valid",
    "Invalid \\uXXXX escape": "a \\u escape is not valid",
    "Extra data": "something follows the JSON value",
}


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _integer(text):
    value = int(text)
    if abs(value) > MAX_INTEGER:
        raise ValueError(f"the integer {text[:20]}{'...' if len(text) > 20 else ''} is "
                         f"larger than 2^53")
    return value


def _float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def loads(raw: str | bytes, max_depth: int = MAX_DEPTH):
    """Parse JSON text; TooDeep past `max_depth` levels, ValueError if not JSON."""
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_int=_integer,
                           parse_float=_float)
    except RecursionError:
        raise TooDeep(f"nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as exc:
        why = PARSER_REASONS.get(exc.msg, "it cannot be read")
        raise NotJson(f"not valid JSON at line {exc.lineno}, column {exc.colno}: "
                      f"{why}") from None
    except ValueError as exc:  # a number refused by _no_constant, _integer or _float
        raise NotJson(f"not valid JSON: {exc}") from None
    if depth(value, max_depth) > max_depth:
        raise TooDeep(f"nested more than {max_depth} levels deep")
    return value


def depth(value, stop: int = MAX_DEPTH) -> int:
    """How deep `value` nests (a scalar is 0), counting no further than stop + 1.
    Iterative: a deep value cannot exhaust the stack here."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > stop:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def text_reason(text: str) -> str | None:
    """Why this string cannot be stored as text, or None."""
    if "\x00" in text:
        return NUL_REASON
    if _SURROGATE.search(text):
        return SURROGATE_REASON
    return None


def text_problems(value, root: str = "body") -> dict[str, list[str]]:
    """{field path: [reason]} for every string (key or value) that cannot be
    stored as text; paths are dotted (`actions.0.title`)."""
    found: dict[str, list[str]] = {}
    stack = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            reason = text_reason(item)
            if reason:
                found[path or root] = [reason]
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                reason = text_reason(str(key))
                if reason:
                    found[_printable(child_path)] = [f"field name {reason}"]
                else:
                    stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{path}.{i}" if path else str(i))
                         for i, child in enumerate(item))
    return dict(sorted(found.items()))


def _printable(path: str) -> str:
    """A path that itself can be shown and encoded (its bad characters escaped)."""
    return path.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
