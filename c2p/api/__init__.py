"""The HTTP API's shapes, shared by the gateway and the services behind it.

One module per area (`checklists`, `plans`, `evidence`, `inbox`, `accounts`,
`webhooks`, `dashboards`, `facilities`, `exports`, `live`, `session`, `docs`);
each holds the request schemas a service loads and the view schemas the gateway
dumps its answers through, so the OpenAPI document (generated from the same
classes) cannot drift from what is sent. `core` has the base classes, `pages` the one pagination shape.

The gateway imports only `gateway` and `c2p`: a schema both sides need lives
here, never in a service package.
"""
from c2p.api.core import Day, Query, Strict, Timestamp, View, dump, undeclared
from c2p.api.pages import Page, PageQuery, page_of, paginate, paginate_list

__all__ = ["Day", "Page", "PageQuery", "Query", "Strict", "Timestamp", "View", "dump",
           "page_of", "paginate", "paginate_list", "undeclared"]
