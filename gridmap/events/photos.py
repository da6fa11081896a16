"""Photos from the street: checked by content (not by name), size-limited, read for their
EXIF GPS point and time, then stored re-encoded as JPEG without EXIF (no phone model, no
owner name, no location leaks from the stored file)."""
import datetime as dt
import io

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from .calendar import TZ

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}
_GPS_IFD, _EXIF_IFD = 0x8825, 0x8769
_DATETIME_ORIGINAL = 0x9003


def _degrees(dms, ref) -> float:
    d, m, s = (float(x) for x in dms)
    value = d + m / 60 + s / 3600
    return -value if ref in ("S", "W") else value


def _exif_point(exif) -> Point | None:
    gps = exif.get_ifd(_GPS_IFD)
    try:
        lat = _degrees(gps[2], gps.get(1, "N"))
        lon = _degrees(gps[4], gps.get(3, "E"))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return Point(lon, lat, srid=4326)


def _exif_time(exif) -> dt.datetime | None:
    raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL)
    try:
        return dt.datetime.strptime(str(raw), "%Y:%m:%d %H:%M:%S").replace(tzinfo=TZ)  # phones write local time
    except ValueError:
        return None


def read_photo(upload, index: int = 1) -> dict:
    """One uploaded photo → the fields of an EventPhoto (image, exif_point, taken_at), or a
    ValidationError that names the photo and what is wrong with it."""
    name = getattr(upload, "name", f"photo {index}")
    limit = settings.EVENT_PHOTO_MAX_BYTES
    if upload.size > limit:
        raise ValidationError({"photos": f"{name}: {upload.size / 2**20:.1f} MB is over the {limit / 2**20:.0f} MB limit"})
    try:
        with Image.open(upload) as probe:
            kind = probe.format
            probe.verify()
        upload.seek(0)
        image = Image.open(upload)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError({"photos": f"{name} is not a JPEG, PNG or WebP image (checked by its content, not its name)"}) from None
    if kind not in ACCEPTED_FORMATS:
        raise ValidationError({"photos": f"{name} is a {kind} image; send JPEG, PNG or WebP"})
    exif = image.getexif()
    point, taken = _exif_point(exif), _exif_time(exif)
    clean = ImageOps.exif_transpose(image).convert("RGB")  # keep what the camera meant, drop the rest
    clean.thumbnail((2560, 2560))
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=85, optimize=True)
    return {"image": ContentFile(out.getvalue(), name="photo.jpg"), "exif_point": point, "taken_at": taken}
