"""The one pagination shape of every list the API answers, and the helpers that
make it, for SQL queries and for lists already in memory.

A client sends `page` (from 1) and `per_page` (1-100, default 20) and gets
`{"total", "page", "per_page", "items"}`; `total` counts the matching items on
every page (within the caller's scope, as the items themselves). A page past the
end is empty, not an error.
"""
from __future__ import annotations

from marshmallow import fields, validate

from c2p.api.core import Query, View

MAX_PAGE = 100000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


class PageQuery(Query):
    """`page` and `per_page`; a list route's query schema derives from it."""
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                          metadata={"description": "from 1"})
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE,
                              validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": f"1 to {MAX_PER_PAGE} "
                                                       f"(default {DEFAULT_PER_PAGE})"})


class PageView(View):
    """What every page of a list carries besides its items."""
    total = fields.Integer(required=True, metadata={"description": "items matching, all pages"})
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


_PAGES: dict[type, type] = {}


def Page(item: type[View]) -> type[View]:  # noqa: N802  (reads as a type)
    """The view of one page of `item`s (made once per item view)."""
    if item not in _PAGES:
        name = f"{item.__name__.removesuffix('View').removesuffix('Schema')}Page"
        _PAGES[item] = type(name, (PageView,), {
            "items": fields.List(fields.Nested(item), required=True),
            "__doc__": f"One page of {item.__name__} (`page` from 1, `per_page` 1-100).",
            "__module__": item.__module__,
        })
    return _PAGES[item]


def page_of(items: list, total: int, page: int, per_page: int, **extra) -> dict:
    return {"total": total, "page": page, "per_page": per_page, "items": list(items),
            **extra}


def paginate_list(items, page: int = 1, per_page: int = DEFAULT_PER_PAGE, **extra) -> dict:
    """One page of a list already in memory (already in its order)."""
    items = list(items)
    start = (page - 1) * per_page
    return page_of(items[start:start + per_page], len(items), page, per_page, **extra)


def paginate(session, query, page: int = 1, per_page: int = DEFAULT_PER_PAGE, view=None,
             scalars: bool = True, **extra) -> dict:
    """One page of a SQLAlchemy select (already ordered), counted in SQL.

    `view` turns each row into its dict; `scalars=False` pages over row tuples.
    """
    from sqlalchemy import func, select  # only the services and the gateway's SQL need it

    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    sliced = query.offset((page - 1) * per_page).limit(per_page)
    rows = session.scalars(sliced).all() if scalars else session.execute(sliced).all()
    return page_of([view(row) if view else row for row in rows], total, page, per_page,
                   **extra)
