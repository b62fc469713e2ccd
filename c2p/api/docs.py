"""The API's own documents, as the gateway serves them."""
from __future__ import annotations

from marshmallow import fields

from c2p.api.core import View


class Health(View):
    status = fields.String(required=True, metadata={"example": "ok"})


class OpenApiDocument(View):
    """An OpenAPI 3.1 document (this one)."""
    openapi = fields.String(required=True)
    info = fields.Dict(required=True)
    servers = fields.List(fields.Dict())
    paths = fields.Dict(required=True)
    components = fields.Dict()
    security = fields.List(fields.Dict())
    tags = fields.List(fields.Dict())


class AsyncApiDocument(View):
    """An AsyncAPI 2.6 document: the events on the bus."""
    asyncapi = fields.String(required=True)
    id = fields.String(required=True)
    info = fields.Dict(required=True)
    defaultContentType = fields.String()  # noqa: N815  (the AsyncAPI key)
    servers = fields.Dict()
    channels = fields.Dict(required=True)
    components = fields.Dict()
