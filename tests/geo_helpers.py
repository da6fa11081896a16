"""Plain geometry helpers shared by test modules."""
import math


def tile_of(lon, lat, z):
    n = 2 ** z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)
