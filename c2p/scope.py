"""Geographic scope: a user sees what lies under one of their org-unit paths.

`in_scope` answers for one path in Python; `in_scope_clause` is the same rule as a
SQL condition for queries. They are one rule written twice on purpose (a row
filtered in SQL must be exactly a row `in_scope` would accept), and a property
test runs both against PostgreSQL. Blank roots grant nothing: an account whose
scope was never set sees nothing, rather than everything under "/".

Also where an event happens (`event_places`), so that every consumer that fans
events out to people (live updates, webhooks) applies one rule: an event is
shown to a scope when each of its places lies in that scope; an event with no
place (a notification outcome, say) only to a national scope.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, false, func, or_, select


def _roots(scope) -> list[str]:
    return [root for root in (scope or ()) if isinstance(root, str) and root.strip()]


def in_scope(path: str, scope) -> bool:
    """True when `path` is one of the scope's paths or lies under one of them."""
    return any(path == root or path.startswith(root.rstrip("/") + "/")
               for root in _roots(scope))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def under_clause(column, root: str):
    """`column` is `root` or lies under it (LIKE on a prefix: uses the
    varchar_pattern_ops indexes)."""
    prefix = root.rstrip("/") + "/"
    return or_(column == root, column.like(_like_escape(prefix) + "%", escape="\\"))


def in_scope_clause(column, scope):
    """SQL form of `in_scope` for a path column; an empty scope matches nothing."""
    roots = _roots(scope)
    if not roots:
        return false()
    return or_(*[under_clause(column, root) for root in roots])


def all_in_scope(paths, scope) -> bool:
    """True when there is at least one path and every one lies in `scope`."""
    paths = list(paths or ())
    return bool(paths) and all(isinstance(p, str) and in_scope(p, scope) for p in paths)


def all_in_scope_clause(paths_column, scope):
    """SQL form of `all_in_scope` for an array-of-paths column (an account's scope):
    at least one path, and none outside `scope`."""
    path = func.unnest(paths_column).table_valued("path").render_derived()
    outside = select(1).select_from(path).where(~in_scope_clause(path.c.path, scope))
    return and_(func.cardinality(paths_column) > 0, ~exists(outside))


def is_national(scope) -> bool:
    """A scope holding a country (an org-unit path of one level, e.g. `/ML`)."""
    return any(isinstance(root, str) and root.strip("/") != "" and "/" not in root.strip("/")
               for root in scope or ())


def event_places(event_type: str, data) -> list[str] | None:
    """The org-unit paths an event is about, or None when it is about no place.

    Facility events carry `facility_path`; a batch of changes, one per change.
    Account events are about the account,
    which lives where its scope (and the facilities it coaches) are: a Kayes
    admin must not learn a Niono coach's phone number from `account.updated`.
    """
    if not isinstance(data, dict):
        return None
    if event_type.startswith("account."):
        paths = [p for p in data.get("scope") or () if isinstance(p, str)]
        paths += [a.get("facility_path") for a in data.get("coaching") or ()
                  if isinstance(a, dict) and isinstance(a.get("facility_path"), str)]
        # An account with no place at all is only seen nationally.
        return paths or None
    changes = data.get("changes")
    if isinstance(changes, list):
        # A batch (`actions.status_changed`): where every one of its changes is;
        # a change with no place makes the whole batch national.
        paths = [c.get("facility_path") if isinstance(c, dict) else None for c in changes]
        return paths if paths and all(isinstance(p, str) and p for p in paths) else None
    path = data.get("facility_path")
    if isinstance(path, str) and path:
        return [path]
    return None


def event_in_scope(event_type: str, data, scope) -> bool:
    """May a holder of `scope` learn of this event (by its places alone)?"""
    places = event_places(event_type, data)
    if places is None:
        return is_national(scope)
    return all_in_scope(places, scope)
