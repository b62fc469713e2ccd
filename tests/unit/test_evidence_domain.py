"""Evidence rules: file types by their bytes, limits, filenames, keys, who may do what,
and what a coach sees of a photo (thumbnail, capture time, GPS)."""
import io
import uuid
from datetime import datetime, timezone

import pytest
from PIL import Image

from evidence import domain, images
from evidence.domain import Rejected

MB = 1024 * 1024


def jpeg(size=(800, 600), exif_time=None, gps=None, orientation=None):
    image = Image.new("RGB", size, (30, 120, 60))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if exif_time:
        exif.get_ifd(0x8769)[36867] = exif_time
    if gps:
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2], ifd[3], ifd[4] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=80)
    return out.getvalue()


def png():
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 255, 128)).save(out, "PNG")
    return out.getvalue()


def webp():
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (0, 0, 255)).save(out, "WEBP")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HEIC_HEAD = (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40)
HEIF_GENERIC = (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic" + b"\x00" * 40)
AVIF_HEAD = (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif" + b"\x00" * 40)
PHP = b"<?php system($_GET['c']); ?>\n"


def check(data, max_bytes=25 * MB):
    return domain.verify(len(data), data[:domain.HEAD_BYTES], data[-domain.TAIL_BYTES:],
                         max_bytes)


@pytest.mark.parametrize("data, kind", [
    (jpeg(), "jpeg"), (png(), "png"), (webp(), "webp"), (PDF, "pdf"),
    (HEIC_HEAD, "heic"), (HEIF_GENERIC, "heic"),
])
def test_allowed_types_are_recognised_by_their_bytes(data, kind):
    assert check(data) == kind
    assert domain.ALLOWED[kind]


@pytest.mark.parametrize("data", [
    PHP, b"GIF89a" + b"\x00" * 100, b"MZ\x90\x00" + b"\x00" * 100, AVIF_HEAD,
    b"<html><script>alert(1)</script></html>", b"PK\x03\x04" + b"\x00" * 60,
    b"\x00" * 100,
])
def test_anything_else_is_refused_whatever_its_name(data):
    with pytest.raises(Rejected) as refused:
        check(data)
    assert refused.value.code == "type_not_allowed"
    assert "JPEG" in refused.value.reason_en and "JPEG" in refused.value.reason_fr


def test_empty_and_oversize_files_are_refused_before_their_type_is_looked_at():
    with pytest.raises(Rejected) as empty:
        domain.verify(0, b"", b"", 25 * MB)
    assert empty.value.code == "empty"
    with pytest.raises(Rejected) as large:
        domain.verify(25 * MB + 1, b"\xff\xd8\xff", b"\xff\xd9", 25 * MB)
    assert large.value.code == "too_large"
    assert "25 MB" in large.value.reason_en and "25 MB" in large.value.reason_fr
    assert domain.verify(25 * MB, b"%PDF-1.7", b"%%EOF", 25 * MB) == "pdf"


@pytest.mark.parametrize("data", [jpeg()[:-200], jpeg()[:-2], png()[:-5], PDF[:-10]])
def test_truncated_files_are_refused(data):
    with pytest.raises(Rejected) as refused:
        check(data)
    assert refused.value.code == "truncated"


def test_trailing_padding_after_the_jpeg_end_marker_is_tolerated():
    assert check(jpeg() + b"\x00\x00\r\n") == "jpeg"


@pytest.mark.parametrize("raw, clean", [
    ("photo.jpg", "photo.jpg"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\awa\\Réfrigérateur été.JPG", "Réfrigérateur été.JPG"),
    ("shell.php\x00.jpg", "shell.php.jpg"),
    ("<script>alert(1)</script>.png", "script_.png"),  # "/" ends a directory
    ("rapport:*?.pdf", "rapport_.pdf"),
    ("   ..hidden  ", "hidden"),
    ("", ""),
    (None, ""),
])
def test_filenames_are_kept_only_sanitised(raw, clean):
    assert domain.sanitise_filename(raw) == clean


def test_long_filenames_keep_their_extension():
    name = domain.sanitise_filename("a" * 500 + ".pdf")
    assert len(name) == 120 and name.endswith(".pdf")


def test_object_keys_come_from_ids_only():
    action, evidence = uuid.uuid4(), uuid.uuid4()
    assert domain.object_key(action, evidence) == f"evidence/{action}/{evidence}"
    assert domain.upload_key(evidence) == f"uploads/{evidence}"
    with pytest.raises(ValueError):
        domain.object_key("../../x", evidence)


def test_who_may_review_and_withdraw():
    assert domain.can_review("coach", domain.ACCEPTED) is None
    assert "coach" in domain.can_review("coachee", domain.ACCEPTED)
    assert domain.can_review("coach", domain.APPROVED)  # reviewed once
    assert domain.can_review("coach", domain.WITHDRAWN)
    assert domain.can_withdraw("u1", "u1", domain.ACCEPTED) is None
    assert domain.can_withdraw("u2", "u1", domain.ACCEPTED)
    assert domain.can_withdraw("u1", "u1", domain.REJECTED)  # too late: reviewed


def test_distance_between_photo_and_facility():
    niono = domain.Point(14.2526, -5.9930)
    assert domain.distance_m(niono, niono) == 0
    segou = domain.Point(13.4317, -6.2157)
    assert 90_000 < domain.distance_m(niono, segou) < 100_000


def test_a_photo_gives_a_small_thumbnail_its_capture_time_and_gps_point():
    data = jpeg(size=(4000, 3000), exif_time="2026:11:20 09:15:00", orientation=6,
                gps=("N", (14.0, 15.0, 9.36), "W", (5.0, 59.0, 34.8)))
    facts = images.inspect(io.BytesIO(data), "jpeg")
    assert facts.captured_at == datetime(2026, 11, 20, 9, 15, tzinfo=timezone.utc)
    assert facts.gps == domain.Point(14.2526, -5.993)
    assert (facts.width, facts.height) == (4000, 3000)
    thumb = Image.open(io.BytesIO(facts.thumbnail))
    assert thumb.format == "JPEG" and max(thumb.size) == 320
    assert thumb.size == (240, 320)  # EXIF orientation 6 applied: portrait
    assert len(facts.thumbnail) < 20_000


def test_capture_time_with_an_offset_is_turned_to_utc():
    image = Image.new("RGB", (10, 10))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2026:11:20 10:00:00"
    exif.get_ifd(0x8769)[36881] = "+01:00"
    assert images.captured_at(exif) == datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    assert images.captured_at(image.getexif()) is None
    assert images.gps(image.getexif()) is None


def test_png_and_webp_get_thumbnails_without_exif():
    for data, kind in ((png(), "png"), (webp(), "webp")):
        facts = images.inspect(io.BytesIO(data), kind)
        assert facts.thumbnail and facts.captured_at is None and facts.gps is None


def test_bytes_that_claim_to_be_an_image_but_do_not_decode_are_refused():
    data = b"\xff\xd8\xff\xe0" + b"garbage" * 100 + b"\xff\xd9"
    assert check(data) == "jpeg"  # signature and end marker are right...
    with pytest.raises(Rejected) as refused:
        images.inspect(io.BytesIO(data), "jpeg")  # ...but it is no picture
    assert refused.value.code == "unreadable"


def heic():
    out = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2026:11:20 09:15:00"
    Image.new("RGB", (800, 600), (10, 200, 30)).save(out, "HEIF", exif=exif, quality=50)
    return out.getvalue()


def test_an_iphone_heic_photo_gets_a_thumbnail_and_its_capture_time():
    data = heic()
    assert check(data) == "heic"
    facts = images.inspect(io.BytesIO(data), "heic")
    assert Image.open(io.BytesIO(facts.thumbnail)).size == (320, 240)
    assert facts.captured_at == datetime(2026, 11, 20, 9, 15, tzinfo=timezone.utc)
    with pytest.raises(Rejected):  # the right signature on bytes that are no picture
        images.inspect(io.BytesIO(HEIC_HEAD), "heic")
