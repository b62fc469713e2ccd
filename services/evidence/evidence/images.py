"""What a coach on 2G needs from a photo: a small thumbnail, when and where it was taken.

Reads EXIF (capture time, GPS) and makes a JPEG thumbnail of a few kilobytes with
Pillow. A file whose bytes claim to be an image but cannot be decoded is refused.
HEIC (iPhones) is decoded by the pillow-heif plugin; where it is not installed,
HEIC files are accepted on their signature alone, with no thumbnail and no EXIF
(said in the record's note).

Plain Python (no nameko): unit-tested on images made in the test.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import Image, ImageOps, UnidentifiedImageError

from evidence.domain import Point, Rejected

try:
    import pillow_heif
    pillow_heif.register_heif_opener()
    HEIF_DECODER = True
except ImportError:  # pragma: no cover - the plugin is pinned in pyproject.toml
    HEIF_DECODER = False

THUMBNAIL_SIZE = (320, 320)
THUMBNAIL_QUALITY = 70
# Phone photos are 8 to 50 megapixels; a "photo" far bigger than that is a
# decompression bomb, not evidence.
MAX_PIXELS = 64_000_000

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME, DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 306, 36867, 36881
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4


@dataclass(frozen=True)
class ImageFacts:
    thumbnail: bytes | None
    width: int | None
    height: int | None
    captured_at: datetime | None
    gps: Point | None
    note: str = ""


def inspect(fp, kind: str) -> ImageFacts:
    """Decode the image in `fp` (a seekable file), or Rejected if it cannot be read."""
    if kind == "heic" and not HEIF_DECODER:
        return ImageFacts(None, None, None, None, None,
                          note="HEIC: no thumbnail nor EXIF (no HEIF decoder installed)")
    fp.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(fp)
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            exif = image.getexif()
            width, height = image.size
            # Decode at 1/2..1/8 scale when the format allows (JPEG): fast, little memory.
            image.draft("RGB", (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Rejected("unreadable", "the image has too many pixels to be a photo",
                       "l'image a trop de pixels pour être une photo") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Rejected("unreadable", "the image cannot be read (damaged file?)",
                       "l'image est illisible (fichier endommagé ?)") from None
    thumb = ImageOps.exif_transpose(image)
    if thumb.mode not in ("RGB", "L"):
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    thumb.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return ImageFacts(out.getvalue(), width, height, captured_at(exif), gps(exif))


def captured_at(exif) -> datetime | None:
    """When the photo was taken, from EXIF.

    EXIF times are local clock times; without an OffsetTimeOriginal tag they
    are taken as UTC, which is Mali's time all year (Africa/Bamako, no DST).
    """
    try:
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:
        sub = {}
    raw = sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if not raw:
        return None
    try:
        moment = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = _offset(sub.get(OFFSET_TIME_ORIGINAL))
    return moment.replace(tzinfo=offset).astimezone(timezone.utc)


def _offset(raw) -> timezone:
    try:
        text = str(raw).strip("\x00 ")
        sign = -1 if text.startswith("-") else 1
        hours, minutes = text.lstrip("+-").split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    except Exception:
        return timezone.utc


def gps(exif) -> Point | None:
    """The GPS point of the photo, in decimal degrees, or None."""
    try:
        info = exif.get_ifd(GPS_IFD)
    except Exception:
        return None
    try:
        lat = _degrees(info[GPS_LAT]) * (-1 if str(info.get(GPS_LAT_REF, "N")).upper()
                                         .startswith("S") else 1)
        lon = _degrees(info[GPS_LON]) * (-1 if str(info.get(GPS_LON_REF, "E")).upper()
                                         .startswith("W") else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return Point(round(lat, 6), round(lon, 6))


def _degrees(dms) -> float:
    d, m, s = (float(x) for x in dms)
    return d + m / 60 + s / 3600
