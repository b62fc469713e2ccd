"""An attack corpus for evidence uploads (issue 12, findings 5 and 9): decompression
bombs in every format, truncated files, polyglots, active PDFs, lying names and
types; and the files a field worker really sends, which must still pass.

Each entry: name -> (bytes, claimed filename, claimed Content-Type, expected),
where expected is "accepted" or the refusal code. Made on demand, on disk or in
memory; the bombs are written by streaming zlib so that making them costs little
memory (what is measured is the service decoding them, not the test making them).
"""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

try:
    import pillow_heif
    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover
    pass


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def png_bomb(width: int, height: int, color_type: int = 6) -> bytes:
    """A PNG of zero pixels, `width` x `height`, compressed row by row (RGBA by
    default): a few hundred KB that decode to width x height x 4 bytes."""
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    row = b"\x00" * (1 + width * channels)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    idat = b"".join(parts) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
            + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))


def png_text_bomb() -> bytes:
    """A 1x1 PNG with a zTXt chunk inflating to 200 MB."""
    compressor = zlib.compressobj(9)
    text = b"".join(compressor.compress(b"\x00" * 1_000_000) for _ in range(200))
    text += compressor.flush()
    small = png_bomb(1, 1, 2)
    return small[:-12] + _chunk(b"zTXt", b"Comment\x00\x00" + text) + small[-12:]


def image_bytes(fmt: str, size, color=(200, 40, 40), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def photo_jpeg(size=(1600, 1200)) -> bytes:
    """A real-looking photo (noise compresses badly, like a photo)."""
    image = Image.merge("RGB", [Image.effect_noise(size, 40 + 10 * i) for i in range(3)])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """Half of a photo, then the end-of-image marker a naive check looks for."""
    whole = photo_jpeg((640, 480))
    return whole[:len(whole) // 2] + b"\xff\xd9"


def truncated_png() -> bytes:
    whole = image_bytes("PNG", (800, 600), mode="RGB", compress_level=0)
    iend = _chunk(b"IEND", b"")
    return whole[:len(whole) // 2] + iend


def truncated_webp() -> bytes:
    whole = image_bytes("WEBP", (800, 600), quality=80)
    return whole[:len(whole) // 2]


def gif_bomb() -> bytes:
    """A GIF claiming 30000x30000 (LZW): refused by its bytes, never decoded."""
    return (b"GIF89a" + struct.pack("<HH", 30000, 30000) + b"\x80\x00\x00" + b"\x00" * 6
            + b",\x00\x00\x00\x00" + struct.pack("<HH", 30000, 30000) + b"\x00\x08"
            + b"\x02\x4c\x01\x00;")


def heic_claiming(width: int, height: int) -> bytes:
    """A small real HEIC whose image extents (`ispe` boxes) claim another size:
    what a bomb looks like to a decoder that trusts the header."""
    data = bytearray(image_bytes("HEIF", (256, 256), quality=50))
    at = data.find(b"ispe")
    while at != -1:
        data[at + 8:at + 16] = struct.pack(">II", width, height)
        at = data.find(b"ispe", at + 4)
    return bytes(data)


def tiff_bomb() -> bytes:
    """A TIFF claiming 60000x60000: refused by its bytes, never decoded."""
    entries = [(256, 4, 1, 60000), (257, 4, 1, 60000), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, 60000),
               (279, 4, 1, 3_600_000_000 & 0xffffffff)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, count, value) for tag, kind, count, value in entries)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00\x00\x00\x00"


def pdf(*, javascript=None, open_action=False, launch=False, attachment=False,
        obfuscated=False, annotation_action=False, padding=0) -> bytes:
    """A one-page PDF made with pypdf, with the active content asked for (and a
    page content stream of `padding` bytes, to make it larger)."""
    from pypdf import PdfWriter
    from pypdf.generic import (ArrayObject, DictionaryObject, NameObject, NumberObject,
                               StreamObject, TextStringObject)
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    if padding:
        content = StreamObject()
        content.set_data(b"% scanned sheet\n" * (padding // 16 + 1))
        page[NameObject("/Contents")] = writer._add_object(content)
    if javascript:  # document-level JavaScript, in the catalogue's names tree
        action = writer._add_object(DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject(javascript)}))
        names = DictionaryObject({NameObject("/Names"): ArrayObject([
            TextStringObject("init"), action])})
        writer._root_object[NameObject("/Names")] = DictionaryObject({
            NameObject("/JavaScript"): writer._add_object(names)})
    if open_action:
        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert(1)")})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    if launch:
        action = DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                                   NameObject("/F"): TextStringObject("cmd.exe")})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    if attachment:
        writer.add_attachment("payload.exe", b"MZ\x90\x00")
    if annotation_action:
        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert(2)")})
        annot = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
            NameObject("/A"): writer._add_object(action)})
        page[NameObject("/Annots")] = ArrayObject([writer._add_object(annot)])
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    if obfuscated:  # the same names, spelt with #xx escapes
        data = data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/OpenAction",
                                                                       b"/Open#41ction")
    return data


def html_pdf() -> bytes:
    return (b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n"
            b"%%EOF\n")


def html_in_jpeg() -> bytes:
    """A JPEG whose first bytes also read as a web page (a comment segment)."""
    jpeg = image_bytes("JPEG", (64, 64))
    comment = b"<html><script>alert(1)</script></html>"
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]


def corpus() -> dict:
    """name -> (bytes, filename, content type, expected outcome)."""
    return {
        # What the field sends: accepted.
        "photo.jpg": (photo_jpeg(), "frigo.jpg", "image/jpeg", "accepted"),
        "scan.png": (image_bytes("PNG", (1200, 1600), mode="L", color=230), "fiche.png",
                     "image/png", "accepted"),
        "photo.webp": (image_bytes("WEBP", (1024, 768), quality=80), "x.webp", "image/webp",
                       "accepted"),
        "photo.heic": (image_bytes("HEIF", (1024, 768), quality=60), "IMG_0001.HEIC",
                       "image/heic", "accepted"),
        "report.pdf": (pdf(), "rapport.pdf", "application/pdf", "accepted"),
        # Decompression bombs.
        "bomb-png-7999-rgba": (png_bomb(7999, 7999), "photo.png", "image/png",
                               "too_large_to_decode"),
        "bomb-png-30000-gray": (png_bomb(30000, 30000, 0), "photo.png", "image/png",
                                "too_large_to_decode"),
        "bomb-png-ztxt": (png_text_bomb(), "photo.png", "image/png", "unreadable"),
        "bomb-jpeg-8000": (image_bytes("JPEG", (8000, 8000), mode="L", color=0),
                           "photo.jpg", "image/jpeg", "accepted"),
        "bomb-webp-6000": (image_bytes("WEBP", (6000, 6000), lossless=True), "p.webp",
                           "image/webp", "too_large_to_decode"),
        "bomb-heic-7000": (heic_claiming(7000, 7000), "p.heic", "image/heic",
                           "too_large_to_decode"),
        "bomb-heic-40000": (heic_claiming(40000, 40000), "p.heic", "image/heic",
                            "too_large_to_decode"),
        "bomb-gif-as-jpeg": (gif_bomb(), "photo.jpg", "image/jpeg", "type_not_allowed"),
        "bomb-tiff-as-png": (tiff_bomb(), "photo.png", "image/png", "type_not_allowed"),
        # Truncated files.
        "truncated-jpeg-ffd9": (truncated_jpeg(), "photo.jpg", "image/jpeg", "unreadable"),
        "truncated-png-iend": (truncated_png(), "photo.png", "image/png", "unreadable"),
        "truncated-webp": (truncated_webp(), "photo.webp", "image/webp", "unreadable"),
        # Polyglots.
        "pdf-with-html-body": (html_pdf(), "rapport.pdf", "application/pdf", "polyglot"),
        "jpeg-with-html-head": (html_in_jpeg(), "photo.jpg", "image/jpeg", "polyglot"),
        # Active PDFs.
        "pdf-openaction-js": (pdf(open_action=True), "r.pdf", "application/pdf",
                              "active_content"),
        "pdf-names-js": (pdf(javascript="app.alert(1)"), "r.pdf", "application/pdf",
                         "active_content"),
        "pdf-launch": (pdf(launch=True), "r.pdf", "application/pdf", "active_content"),
        "pdf-embedded-file": (pdf(attachment=True), "r.pdf", "application/pdf",
                              "active_content"),
        "pdf-link-js": (pdf(annotation_action=True), "r.pdf", "application/pdf",
                        "active_content"),
        "pdf-obfuscated-names": (pdf(open_action=True, obfuscated=True), "r.pdf",
                                 "application/pdf", "active_content"),
        # Lying names and types.
        "php-as-jpg": (b"<?php system($_GET['c']); ?>", "photo.jpg", "image/jpeg",
                       "type_not_allowed"),
        "svg-as-png": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
                       b"</svg>", "photo.png", "image/png", "type_not_allowed"),
        "html-as-pdf": (b"<!DOCTYPE html><html><body>hi</body></html>", "r.pdf",
                        "application/pdf", "type_not_allowed"),
        "exe-as-pdf": (b"MZ\x90\x00" + b"\x00" * 200, "r.pdf", "application/pdf",
                       "type_not_allowed"),
        "png-named-pdf": (image_bytes("PNG", (64, 64)), "rapport.pdf", "application/pdf",
                          "accepted"),
    }
