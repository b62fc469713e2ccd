"""Geographic scope: a user sees what lies under one of their org-unit paths."""


def in_scope(path: str, scope) -> bool:
    """True when `path` is one of the scope's paths or lies under one of them."""
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in scope or ())
