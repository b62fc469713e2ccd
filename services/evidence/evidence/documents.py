"""What a PDF of evidence must be: a document that a maintained parser reads,
with pages, and nothing in it that runs.

The file is parsed with pypdf (pinned), not just sniffed: a file that starts
with `%PDF-` and ends with `%%EOF` but whose body is a web page, or that no
parser can read, is refused. So is active content, found by walking every
object reachable from the document's trailer (catalogue, pages, annotations,
names trees, forms): JavaScript, actions run on opening or on events
(`/OpenAction`, `/AA`), launching programs (`/Launch`), embedded or attached
files, rich media, XFA forms, form submission and data import. A coach opening
evidence should only ever see a document.

pypdf's own resource limits are lowered for this (streams decoded, objects
walked), so a PDF bomb costs a bounded amount of memory and work; the memory
of the whole verification is measured in the tests.

Plain Python (no nameko): unit-tested on PDFs made in the test.
"""
from __future__ import annotations

import logging
import re

import pypdf
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from evidence.domain import Rejected

log = logging.getLogger(__name__)

# Keys whose presence means the document can act, not just be shown.
ACTIVE_KEYS = {"/JavaScript", "/JS", "/OpenAction", "/AA", "/Launch", "/EmbeddedFile",
               "/EmbeddedFiles", "/RichMedia", "/XFA", "/SubmitForm", "/ImportData"}
# Action types (`/S`) and annotation subtypes that act.
ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute",
                  "/GoToE", "/GoToR", "/Rendition", "/Movie", "/Sound"}
ACTIVE_SUBTYPES = {"/FileAttachment", "/RichMedia", "/Movie", "/Sound", "/Screen"}
MAX_OBJECTS = 200_000       # objects walked before giving up (and refusing)
HEAD_MARKUP = re.compile(rb"<\s*(html|script|body|iframe|!doctype|svg|object|embed)\b",
                         re.IGNORECASE)
LIMITS = {  # bytes pypdf may inflate while we read the structure
    "zlib_maximum_output_length": 16_000_000,
    "lzw_maximum_output_length": 16_000_000,
    "run_length_maximum_output_length": 16_000_000,
    "array_based_stream_maximum_output_length": 16_000_000,
    "stream_decoding_work_maximum_length": 64_000_000,
    "jbig2dec_binary": None,  # never call out to a program
}


def _unreadable(detail):
    log.info("PDF refused as unreadable: %s", detail)
    return Rejected("unreadable", "the PDF cannot be read (damaged, or not really a PDF)",
                    "le PDF est illisible (endommagé, ou pas vraiment un PDF)")


ACTIVE = Rejected("active_content",
                  "the PDF contains active content (JavaScript, automatic actions, "
                  "launched programs or attached files); save it again as a plain PDF "
                  "(\"print to PDF\") and send that",
                  "le PDF contient du contenu actif (JavaScript, actions automatiques, "
                  "programmes lancés ou fichiers joints) ; enregistrez-le à nouveau en PDF "
                  "simple (« imprimer en PDF ») et envoyez celui-là")


def inspect_pdf(fp) -> str:
    """Read the PDF in `fp` (seekable); its note for the reviewer, or Rejected."""
    fp.seek(0)
    head = fp.read(2048)
    if HEAD_MARKUP.search(head):
        raise Rejected("polyglot", "the file is a web page dressed as a PDF",
                       "le fichier est une page web déguisée en PDF")
    fp.seek(0)
    try:
        with pypdf.apply_configuration(**LIMITS):
            reader = pypdf.PdfReader(fp, strict=False)
            if reader.is_encrypted:
                raise Rejected("encrypted", "the PDF is password-protected: send it without "
                               "a password", "le PDF est protégé par un mot de passe : "
                               "envoyez-le sans mot de passe")
            root = reader.trailer.get("/Root")
            root = root.get_object() if root is not None else None
            if not isinstance(root, DictionaryObject) or root.get("/Type") != "/Catalog":
                raise _unreadable("no document catalogue")
            pages = len(reader.pages)
            if pages < 1:
                raise _unreadable("no page")
            found = active_content(reader.trailer)
    except Rejected:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError, AssertionError) as exc:
        raise _unreadable(exc) from None
    if found:
        log.info("PDF refused: active content %s", sorted(found))
        raise ACTIVE
    return f"PDF: {pages} page{'s' if pages > 1 else ''}"


def active_content(start) -> set[str]:
    """The active-content markers found in objects reachable from `start`."""
    found: set[str] = set()
    seen: set[tuple] = set()
    stack = [start]
    walked = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        walked += 1
        if walked > MAX_OBJECTS:
            found.add("too many objects to check")
            break
        if isinstance(item, DictionaryObject):  # streams are dictionaries too
            for name, value in item.items():
                if name in ACTIVE_KEYS:
                    found.add(name)
                if name == "/S" and isinstance(value, NameObject) and value in ACTIVE_ACTIONS:
                    found.add(f"/S {value}")
                if name == "/Subtype" and isinstance(value, NameObject) \
                        and value in ACTIVE_SUBTYPES:
                    found.add(f"/Subtype {value}")
                if name != "/Parent":  # the way back up: already walked
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return found
