"""What a coach on 2G needs from a photo: a small thumbnail, when and where it was taken;
and what the service needs: proof that the file is a whole, decodable image that
cannot exhaust its memory.

Reads EXIF (capture time, GPS) and makes a JPEG thumbnail of a few kilobytes with
Pillow. HEIC (iPhones) is decoded by the pillow-heif plugin; where it is not
installed, HEIC files are accepted on their signature alone, with no thumbnail and
no EXIF (said in the record's note).

Decoding is bounded before it starts (decompression bombs: a 249 KB PNG can
decode to 256 MB), for every format Pillow may open:

- the header gives the size; `decoded_bytes` is what Pillow will hold for the
  image (after JPEG's reduced-scale decoding), times `PEAK_FACTOR` for the
  formats whose decoder keeps a buffer of its own (HEIC, WebP); an image over
  `Limits.image_bytes` is refused without being decoded;
- every decode in the process reserves its bytes from one `DecodeBudget`
  (`Limits.process_bytes`): ten bombs at once wait for each other instead of
  taking gigabytes; a decode that cannot get its bytes in time is `Busy` (the
  upload is kept; the client confirms again);
- the image is decoded fully: Pillow reads every scanline (a truncated PNG or
  WebP fails), and a JPEG is also decoded at 1/8 scale by libjpeg-turbo in
  strict mode (simplejpeg), which refuses the "premature end of data" that
  Pillow silently pads with grey (a truncated JPEG with `FF D9` appended);
- Pillow opens the file only as the format its bytes announced (no polyglot
  read as something else), with PNG text chunks capped.

Plain Python (no nameko): unit-tested on images made in the test; peak memory
is measured in `tests/unit/test_evidence_bombs.py`.
"""
from __future__ import annotations

import io
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import simplejpeg
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

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
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard, for any other caller too
# zTXt/iTXt/iCCP chunks are inflated by Pillow when the PNG is opened.
PngImagePlugin.MAX_TEXT_CHUNK = 1024 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = 4 * 1024 * 1024

# The Pillow format an allowed kind may be opened as, and nothing else.
PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}
# Decoders that fill a buffer of their own before Pillow copies it (measured:
# libheif's planes plus the RGB copy; libwebp's RGBA frame plus the copy).
PEAK_FACTOR = {"HEIF": 2.5, "WEBP": 2.0}
# Shrinking to a thumbnail: reduce() keeps a copy of at most a quarter of the image,
# and Pillow premultiplies alpha into a full-size copy first (measured: a 120 MiB
# RGBA PNG peaks at 235 MiB, an RGB one at about 1.1 times its size).
THUMBNAIL_OVERHEAD = {"RGBA": 1.1, "LA": 1.1, "PA": 1.1}
THUMBNAIL_OVERHEAD_DEFAULT = 0.3

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


@dataclass(frozen=True)
class Limits:
    """Memory for decoding: per image, and for all decodes of this process at once."""
    image_bytes: int = 128 * 1024 * 1024
    process_bytes: int = 384 * 1024 * 1024
    wait_s: float = 8.0  # under the gateway's RPC timeout: Busy (503) rather than a timeout


class Busy(Exception):
    """Every byte of the decoding budget is taken for longer than we wait: retry."""


class DecodeBudget:
    """A counting semaphore of bytes shared by the decoding threads of a process."""

    def __init__(self, total: int):
        self.total, self.used = total, 0
        self._cond = threading.Condition()

    def acquire(self, amount: int, wait_s: float) -> int:
        amount = min(amount, self.total)  # the largest allowed image still fits alone
        deadline = time.monotonic() + wait_s
        with self._cond:
            while self.used + amount > self.total:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Busy("the evidence service is decoding other images; retry")
                self._cond.wait(left)
            self.used += amount
        return amount

    def release(self, amount: int):
        with self._cond:
            self.used -= amount
            self._cond.notify_all()


_budgets: dict[int, DecodeBudget] = {}
_budgets_lock = threading.Lock()


def budget_for(total: int) -> DecodeBudget:
    """The process's budget (one per configured size: tests use several)."""
    with _budgets_lock:
        if total not in _budgets:
            _budgets[total] = DecodeBudget(total)
        return _budgets[total]


def decoded_bytes(image) -> int:
    """Bytes Pillow holds for `image` once loaded at its current (draft) size:
    1 per pixel for 1, L and P, 2 for 16-bit modes, 4 for everything else
    (Pillow stores RGB in 32 bits)."""
    mode = image.mode
    per_pixel = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    return image.width * image.height * per_pixel


TOO_BIG = Rejected("too_large_to_decode",
                   "the image has too many pixels to be a photo (send a JPEG photo, or a "
                   "smaller image)",
                   "l'image a trop de pixels pour être une photo (envoyez une photo JPEG, ou "
                   "une image plus petite)")
UNREADABLE = Rejected("unreadable", "the image cannot be read (damaged or incomplete file?)",
                      "l'image est illisible (fichier endommagé ou incomplet ?)")


def inspect(fp, kind: str, limits: Limits = Limits()) -> ImageFacts:
    """Decode the image in `fp` (a seekable file) within `limits`, or Rejected if it
    cannot be read, or Busy if the process has no decoding memory to spare now."""
    if kind == "heic" and not HEIF_DECODER:
        return ImageFacts(None, None, None, None, None,
                          note="HEIC: no thumbnail nor EXIF (no HEIF decoder installed)")
    fp.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(fp, formats=[PIL_FORMATS[kind]])
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise TOO_BIG
            # (No getexif() yet: for a PNG it decodes the whole image to look for
            # an eXIf chunk after the pixels, before any bound is checked.)
            # Decode at 1/2..1/8 scale when the format allows (JPEG): fast, little memory.
            image.draft("RGB", (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2))
            need = decoded_bytes(image)
            if need > limits.image_bytes:
                raise TOO_BIG
            peak = int(need * (PEAK_FACTOR.get(image.format, 1.0) + THUMBNAIL_OVERHEAD.get(
                image.mode, THUMBNAIL_OVERHEAD_DEFAULT)))
            if kind == "jpeg":  # the strict check holds the file itself in memory
                peak += fp.seek(0, 2)
            budget = budget_for(limits.process_bytes)
            reserved = budget.acquire(peak, limits.wait_s)
            try:
                if kind == "jpeg":
                    _check_whole_jpeg(fp)
                image.load()
                exif = image.getexif()
                thumbnail = _thumbnail(image)
            finally:
                image.close()
                budget.release(reserved)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TOO_BIG from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            MemoryError, KeyError, IndexError, TypeError):
        raise UNREADABLE from None
    return ImageFacts(thumbnail, width, height, captured_at(exif), gps(exif))


def _check_whole_jpeg(fp):
    """libjpeg-turbo, strict: every entropy-coded segment present and well formed.
    Decoded at 1/8 scale: the whole file is read, a few megabytes at most held."""
    fp.seek(0)
    data = fp.read()
    fp.seek(0)
    colorspace = simplejpeg.decode_jpeg_header(data, strict=True)[2]
    simplejpeg.decode_jpeg(data, colorspace="CMYK" if colorspace in ("CMYK", "YCCK")
                           else "GRAY", min_factor=8, strict=True)


def _thumbnail(image) -> bytes:
    # Shrink first (in place), then turn and flatten the small copy: the full-size
    # image is never copied. (Its EXIF orientation survives the shrinking.)
    image.thumbnail(THUMBNAIL_SIZE)
    thumb = ImageOps.exif_transpose(image)
    if thumb.mode not in ("RGB", "L"):
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()


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
