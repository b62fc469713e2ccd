"""Evidence rules in plain Python: what file is acceptable, what a reviewer sees.

- the type of a file is decided by its own first and last bytes (magic numbers,
  end markers) against an allow-list, never by its name or declared
  Content-Type: a PHP script renamed `photo.jpg` is refused;
- the original filename is kept only as sanitised metadata; object keys are
  made here from ids, never from anything the client named;
- the status machine of an evidence record, and who may do what to it.

No nameko, no S3, no database: unit-tested in milliseconds.
"""
from __future__ import annotations

import math
import re
import unicodedata
import uuid
from dataclasses import dataclass

from c2p.errors import Refused  # the one refusal type; c2p.entrypoints maps it to HTTP
from c2p.objectstore import format_size  # noqa: F401 (also used by the gateway)

# The file kinds (kind -> the Content-Type stored and served), the statuses of an
# evidence record and the decisions are the API's (one definition, documented there).
from c2p.api.evidence import (ACCEPTED, ALLOWED, APPROVED, DECISIONS,  # noqa: F401
                              NEEDS_MORE, PENDING, PENDING_REVIEW, REFUSED, REJECTED,
                              SETTLED, WITHDRAWN)

IMAGE_KINDS = {"jpeg", "png", "webp", "heic"}
# Brands of an ISO-BMFF `ftyp` box that mean HEIF/HEIC still images.
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
HEIF_GENERIC_BRANDS = {b"mif1", b"msf1"}

HEAD_BYTES = 64  # enough for every signature above
# Files read whole to be verified: images are decoded, PDFs parsed.
DECODED_KINDS = IMAGE_KINDS | {"pdf"}
# Old browsers sniffed the first bytes for markup and ran it as a page: a file
# whose start reads as HTML is refused whatever else it also is (a polyglot).
MARKUP_BYTES = 1024
_MARKUP = re.compile(rb"<\s*(html|script|body|iframe|!doctype|svg|object|embed|frameset)\b",
                     re.IGNORECASE)
TAIL_BYTES = 1024  # where end markers are looked for (PDF allows trailing junk)

CONFIRMABLE = (PENDING, REFUSED)
VERIFIED = (ACCEPTED, APPROVED, REJECTED, NEEDS_MORE, SETTLED)
CLOSED_ACTION_STATUSES = ("done", "dropped")
REVIEWER_ROLES = ("coach", "champion", "admin")
UPLOADER_ROLES = ("coachee", "coach", "champion", "admin")

RETENTION_DAYS = 30  # a withdrawn file's bytes are kept this long, then removed


class Rejected(Exception):
    """The file is not acceptable; `code` is stable, the reasons are for people."""

    def __init__(self, code: str, reason_en: str, reason_fr: str):
        super().__init__(reason_en)
        self.code, self.reason_en, self.reason_fr = code, reason_en, reason_fr


def sniff(head: bytes) -> str | None:
    """The allowed kind the first bytes announce, or None."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:5] == b"%PDF-":
        return "pdf"
    if head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[:4], "big")
        major = head[8:12]
        compatible = {head[i:i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
        if major in HEIC_BRANDS or (major in HEIF_GENERIC_BRANDS
                                    and compatible & HEIC_BRANDS):
            return "heic"
    return None


def _ends_properly(kind: str, tail: bytes) -> bool:
    """Whether the file ends as a complete file of its kind does (not truncated)."""
    trimmed = tail.rstrip(b"\x00\r\n\t ")
    if kind == "jpeg":
        return trimmed.endswith(b"\xff\xd9")  # EOI marker
    if kind == "png":
        return len(tail) >= 12 and tail[-8:-4] == b"IEND"
    if kind == "pdf":
        return b"%%EOF" in tail
    return True  # WebP and HEIC carry their length up front: checked by decoding


def verify(size: int, head: bytes, tail: bytes, max_bytes: int, start: bytes = b"") -> str:
    """The file's kind, or Rejected saying why it cannot be evidence. `start` is
    its first MARKUP_BYTES (checked for markup)."""
    if size <= 0:
        raise Rejected("empty", "the file is empty", "le fichier est vide")
    if size > max_bytes:
        limit = format_size(max_bytes)
        raise Rejected("too_large", f"the file is larger than the {limit} limit",
                       f"le fichier dépasse la limite de {limit}")
    kind = sniff(head)
    if kind is None:
        raise Rejected("type_not_allowed",
                       "the file is not a JPEG, PNG, WebP or HEIC photo, nor a PDF "
                       "(its content was checked, not its name)",
                       "le fichier n'est ni une photo JPEG, PNG, WebP ou HEIC, ni un PDF "
                       "(son contenu a été vérifié, pas son nom)")
    if not _ends_properly(kind, tail):
        raise Rejected("truncated", f"the {kind.upper()} file is incomplete (truncated upload?)",
                       f"le fichier {kind.upper()} est incomplet (envoi interrompu ?)")
    if _MARKUP.search(start or head):
        raise Rejected("polyglot", "the file also reads as a web page: it cannot be evidence",
                       "le fichier se lit aussi comme une page web : il ne peut pas servir "
                       "de preuve")
    return kind


_UNSAFE = re.compile(r"[^\w .()\-]+", re.UNICODE)


def sanitise_filename(name: str | None, max_length: int = 120) -> str:
    """A display name safe to store and show: no path, no control or odd characters.

    Accents are kept (French names); the result never decides a key or a type.
    """
    if not name:
        return ""
    name = unicodedata.normalize("NFC", str(name))
    name = re.split(r"[\\/]", name)[-1]  # no directories, whichever separator
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    name = re.sub(r"_+", "_", name)
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[:max_length - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:max_length]
    return name


def object_key(action_id, evidence_id) -> str:
    """Where the file lives in the bucket: made from ids only."""
    return f"evidence/{uuid.UUID(str(action_id))}/{uuid.UUID(str(evidence_id))}"


def upload_key(evidence_id) -> str:
    """Where clients (presigned POST, gateway stream) write. The file is copied to
    `object_key` before it is verified, so a slot still valid after acceptance
    cannot swap the verified bytes."""
    return f"uploads/{uuid.UUID(str(evidence_id))}"


def withdrawn_key(evidence_id, variant: str = "original") -> str:
    """Where a withdrawn file waits for its purge. Moving it there on withdrawal
    makes every download link handed out before (presigned, valid a few more
    minutes) point at nothing."""
    return f"withdrawn/{uuid.UUID(str(evidence_id))}/{variant}"


def thumbnail_key(evidence_id) -> str:
    return f"thumbnails/{uuid.UUID(str(evidence_id))}.jpg"


def can_review(role: str, status: str) -> str | None:
    """None if a reviewer of this role may review now, else why not."""
    if role not in REVIEWER_ROLES:
        return "only a coach may review evidence"
    if status != ACCEPTED:
        return f"evidence that is {status} cannot be reviewed"
    return None


def settles(action_status: str, evidence_status: str) -> bool:
    """Does evidence in this status settle now that its action is in `action_status`?"""
    return action_status in CLOSED_ACTION_STATUSES and evidence_status == ACCEPTED


def can_withdraw(caller_id: str, uploaded_by: str, status: str) -> str | None:
    if caller_id != uploaded_by:
        return "only the person who uploaded evidence may withdraw it"
    if status not in (PENDING, REFUSED, ACCEPTED):
        return f"evidence that is {status} can no longer be withdrawn"
    return None


def check_uploader(role: str) -> None:
    if role not in UPLOADER_ROLES:
        raise Refused("forbidden", f"the role {role} cannot upload evidence",
                      message_fr=f"le rôle {role} ne permet pas d'envoyer des preuves")


def check_reviewer(role: str) -> None:
    if role not in REVIEWER_ROLES:
        raise Refused("forbidden", "only a coach may review evidence",
                      message_fr="seul un coach peut examiner les preuves")


def check_review(role: str, status: str) -> None:
    """Refused unless a reviewer of this role may review evidence in this status."""
    check_reviewer(role)
    reason = can_review(role, status)
    if reason:
        raise Refused("conflict", reason)


def check_withdraw(caller_id: str, uploaded_by: str, status: str) -> None:
    """Refused (forbidden for anyone but the uploader, conflict once reviewed)."""
    reason = can_withdraw(caller_id, uploaded_by, status)
    if reason and caller_id != uploaded_by:
        raise Refused("forbidden", reason, "uploaded_by",
                      "seule la personne qui a envoyé la preuve peut la retirer")
    if reason:
        raise Refused("conflict", reason)


def check_takes_evidence(action_status: str) -> None:
    if action_status in CLOSED_ACTION_STATUSES:
        raise Refused("conflict", f"the action is {action_status}: it takes no more evidence")


def check_declared_size(size_bytes: int | None, max_bytes: int) -> None:
    if size_bytes is not None and size_bytes > max_bytes:
        raise Refused("invalid", f"larger than the {format_size(max_bytes)} limit",
                      "size_bytes")


def rejection_for_size(size: int, max_bytes: int) -> Rejected:
    """Why a file of this size is refused without reading it (empty or too large)."""
    try:
        verify(size, b"", b"", max_bytes)
    except Rejected as rejected:
        return rejected
    raise ValueError(f"a size of {size} is within the limits")


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres (haversine): how far the photo was taken
    from the facility."""
    r = 6371000.0
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))
