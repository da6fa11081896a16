"""The `bbox=west,south,east,north` parameter of the map layer endpoints."""
import math

from rest_framework.exceptions import ValidationError


def parse_bbox(raw: str | None, max_degrees: float) -> tuple[float, float, float, float]:
    """'west,south,east,north' in WGS84 degrees → a checked tuple, or a 400 saying why. A box
    wider or taller than `max_degrees` is refused: each layer decides how much it may send."""
    if not raw:
        raise ValidationError({"bbox": "required: bbox=west,south,east,north (WGS84 degrees)"})
    try:
        w, s, e, n = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValidationError({"bbox": "must be four numbers: west,south,east,north"}) from None
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise ValidationError({"bbox": "coordinates must be finite numbers"})
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
        raise ValidationError({"bbox": "coordinates out of range (longitude ±180, latitude ±90)"})
    if w >= e or s >= n:
        raise ValidationError({"bbox": "west must be less than east and south less than north"})
    if e - w > max_degrees or n - s > max_degrees:
        raise ValidationError({"bbox": f"too large: at most {max_degrees}° each way; zoom in"})
    return w, s, e, n
