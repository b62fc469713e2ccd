"""What a PDF of evidence must be: a document that a maintained parser reads,
with pages, and nothing in it that runs.

The file is parsed with pikepdf (qpdf; pinned), not just sniffed: a file that
starts with `%PDF-` and ends with `%%EOF` but whose body is a web page, or that
no parser can read, is refused. So is active content, found by walking every
object reachable from the document's trailer (catalogue, pages, annotations,
names trees, forms): JavaScript, actions run on opening or on events
(`/OpenAction`, `/AA`), launching programs (`/Launch`), embedded or attached
files, rich media, XFA forms, form submission and data import. qpdf reads
names as written (`/J#61vaScript` is `/JavaScript`), and compressed object
streams too. A coach opening evidence should only ever see a document.

pikepdf rather than pypdf: qpdf reads an object's stream data only when asked,
so walking a 1 GB PDF holds its dictionaries, never its pages' bytes (pypdf
reads each stream it meets into memory); the memory of the whole verification
is measured in the tests.

Plain Python (no nameko): unit-tested on PDFs made in the test.
"""
from __future__ import annotations

import logging
import re

import pikepdf

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
    if HEAD_MARKUP.search(fp.read(2048)):
        raise Rejected("polyglot", "the file is a web page dressed as a PDF",
                       "le fichier est une page web déguisée en PDF")
    fp.seek(0)
    try:
        with pikepdf.open(fp, suppress_warnings=True) as pdf:
            root = pdf.trailer.get("/Root")
            if not isinstance(root, pikepdf.Dictionary) or root.get("/Type") != "/Catalog":
                raise _unreadable("no document catalogue")
            pages = len(pdf.pages)
            if pages < 1:
                raise _unreadable("no page")
            found = active_content(pdf.trailer)
    except pikepdf.PasswordError:
        raise Rejected("encrypted", "the PDF is password-protected: send it without a "
                       "password", "le PDF est protégé par un mot de passe : envoyez-le "
                       "sans mot de passe") from None
    except Rejected:
        raise
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError, RuntimeError) as exc:
        raise _unreadable(exc) from None
    if found:
        log.info("PDF refused: active content %s", sorted(found))
        raise ACTIVE
    return f"PDF: {pages} page{'s' if pages > 1 else ''}"


def active_content(start) -> set[str]:
    """The active-content markers found in objects reachable from `start`
    (iterative, each indirect object once; stream data is never read)."""
    found: set[str] = set()
    seen: set[tuple] = set()
    stack = [start]
    walked = 0
    while stack:
        item = stack.pop()
        if isinstance(item, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)) \
                and item.is_indirect:
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        walked += 1
        if walked > MAX_OBJECTS:
            found.add("too many objects to check")
            break
        if isinstance(item, pikepdf.Stream):
            item = item.stream_dict
        if isinstance(item, pikepdf.Dictionary):
            for name in item.keys():
                value = item.get(name)
                if name in ACTIVE_KEYS:
                    found.add(name)
                if name == "/S" and isinstance(value, pikepdf.Name) \
                        and str(value) in ACTIVE_ACTIONS:
                    found.add(f"/S {value}")
                if name == "/Subtype" and isinstance(value, pikepdf.Name) \
                        and str(value) in ACTIVE_SUBTYPES:
                    found.add(f"/Subtype {value}")
                if name != "/Parent" and isinstance(value, (pikepdf.Dictionary, pikepdf.Array,
                                                            pikepdf.Stream)):
                    stack.append(value)
        elif isinstance(item, pikepdf.Array):
            stack.extend(v for v in item if isinstance(v, (pikepdf.Dictionary, pikepdf.Array,
                                                           pikepdf.Stream)))
    return found
