"""The failures a caller can act on, one type each, shared by services and gateway:
one family under `C2PError`, and `Refused`, the one way a domain rule says no.

They cross RPC as themselves (nameko rebuilds registered exception types on the
caller's side), so the gateway maps each to one HTTP status in one place: the
table `gateway.http.ERROR_STATUS`.
"""
from nameko.exceptions import deserialize_to_instance


class C2PError(Exception):
    """A failure the caller can act on; anything else is a bug (500)."""

    # True when each field's reasons in `errors` are written [English, French]
    # already: the gateway answers them as they are rather than translating
    # (`c2p.reasons`) English ones.
    paired_reasons = False


@deserialize_to_instance
class InvalidInput(C2PError):
    """Input refused; `errors` maps each field (dotted path) to its reasons."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors

    def __str__(self):
        return "; ".join(f"{field}: {', '.join(map(str, reasons))}"
                         for field, reasons in flatten_errors(self.errors).items())


class SaidInBoth:
    """A refusal of one field whose reason its raiser wrote in English and French:
    `errors` has InvalidInput's shape, answered as it is (not translated by the
    catalogue). The three arguments are what crosses RPC."""

    paired_reasons = True

    def __init__(self, field: str, reason_en: str, reason_fr: str):
        C2PError.__init__(self, field, reason_en, reason_fr)
        self.field, self.reason_en, self.reason_fr = field, reason_en, reason_fr
        self.errors = {field: [reason_en, reason_fr]}

    def __str__(self):
        return f"{self.field}: {self.reason_en}"


@deserialize_to_instance
class Unacceptable(SaidInBoth, InvalidInput):
    """Input refused where its reason is written in both languages (an evidence file
    that cannot be read, too large, not what it claims)."""


@deserialize_to_instance
class NotFound(C2PError):
    """No such object, or none the caller may know of (out of scope reads the same)."""


@deserialize_to_instance
class Forbidden(SaidInBoth, C2PError):
    """Not for this caller: its role, or an object outside its scope.

    `field` names what was refused (`role`, `scope`, or the field naming the
    object); the reason is given in English and French, the way every text a
    user reads is, so a 403 answer names what was refused and why as a 422 does.
    Name only what the caller sent or already knows (its role, the id it asked
    for), never another facility's data."""


@deserialize_to_instance
class Conflict(C2PError):
    """Not in the object's present state (or an id already used for other content)."""


class Unauthorized(C2PError):
    """No valid credentials."""


class Throttled(C2PError):
    """Too many failed sign-ins; `retry_after` seconds before the next try."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed sign-ins; retry in {retry_after} s")
        self.retry_after = retry_after


def flatten_errors(errors, prefix=""):
    """Turn marshmallow's nested error dict into {"answers.3.value": [reasons]}."""
    flat = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
    elif isinstance(errors, (list, tuple)) and errors and all(isinstance(e, str) for e in errors):
        flat[prefix or "_"] = list(errors)
    elif isinstance(errors, (list, tuple)):
        for value in errors:
            flat.update(flatten_errors(value, prefix))
    else:
        flat[prefix or "_"] = [str(errors)]
    return flat


@deserialize_to_instance
class ServiceUnavailable(C2PError):
    """A service or resource the request needs is not answering; try again later."""


class Refused(Exception):
    """A request a domain rule refuses. Domain modules raise it (they stay free of
    the error types' transport concerns); `c2p.entrypoints.rpc` turns it into the
    matching C2PError with `as_error()`.

    `kind`: 'conflict' (409: not in this state), 'invalid' (422: bad input, `field`
    names it), 'forbidden' (403: not for this role; `field` names what was
    refused, `role` unless said, and `message_fr` says it in French)."""

    KINDS = ("conflict", "invalid", "forbidden")

    def __init__(self, kind: str, message: str, field: str | None = None,
                 message_fr: str | None = None):
        if kind not in self.KINDS:
            raise ValueError(f"unknown refusal kind {kind!r}")
        if kind == "forbidden" and not message_fr:
            raise ValueError("a forbidden refusal says why in French too (message_fr)")
        super().__init__(message)
        self.kind, self.message, self.field = kind, message, field
        self.message_fr = message_fr

    def as_error(self) -> C2PError:
        if self.kind == "invalid":
            return InvalidInput({self.field or "_": [self.message]})
        if self.kind == "forbidden":
            return Forbidden(self.field or "role", self.message, self.message_fr)
        return Conflict(self.message)


class UnknownParameter(InvalidInput):
    """A query parameter the route does not know (or a single one given twice):
    answered 400, so a client never believes it filtered or exported when it
    did not. Raised by the gateway itself; it does not cross RPC."""


class PayloadTooLarge(InvalidInput):
    """A body over the route's limit (413): `errors` names it (`body`, `file`) and the
    limit, in English and French. Raised by the gateway itself; it does not cross RPC."""

    paired_reasons = True

    def __init__(self, field: str, limit: str):
        super().__init__({field: [f"larger than the {limit} limit",
                                  f"dépasse la limite de {limit}"]})


class UnsupportedMediaType(InvalidInput):
    """A body in a media type the route does not take (415): `errors` names the
    `Content-Type` header and what is accepted, in English and French. Raised by
    the gateway itself; it does not cross RPC."""

    paired_reasons = True
