"""GeoJSON built by PostGIS: a scoped queryset becomes one FeatureCollection string in one query.

The geometry is written by ST_AsGeoJSON and the collection assembled by json_agg, so a map
layer costs one round trip and no Python work per row (no GEOS objects, no json.loads).
`geojson_view` serves such a text as a GET endpoint (the map's layers, the events layer).
"""
import re

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, QuerySet
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.renderers import JSONRenderer

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
EMPTY = '{"type": "FeatureCollection", "features": []}'
GEOJSON = "application/geo+json"


def feature_collection(qs: QuerySet, geometry: str, properties: dict, precision: int = 6) -> str:
    """Serialise `qs` as a GeoJSON FeatureCollection (RFC 7946) text.

    `properties` maps each output property name to a field lookup ("grid__code") or an
    expression; only these are sent. An "id" property also becomes the feature's id.
    """
    for name in properties:
        if not _NAME.match(name):
            raise ValueError(f"bad property name {name!r}")
    columns = {f"gm_p{i}": F(v) if isinstance(v, str) else v for i, v in enumerate(properties.values())}
    inner = qs.values(**columns, gm_geom=AsGeoJSON(geometry, precision=precision))
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # the queryset is none() (scope() for a user with no area)
        return EMPTY
    props = ", ".join(f"'{name}', q.gm_p{i}" for i, name in enumerate(properties))
    feature_id = f"'id', q.gm_p{list(properties).index('id')}, " if "id" in properties else ""
    outer = f"""
        SELECT json_build_object(
            'type', 'FeatureCollection',
            'features', COALESCE(json_agg(json_build_object(
                'type', 'Feature', {feature_id}
                'geometry', q.gm_geom::json,
                'properties', json_build_object({props})
            )), '[]'::json)
        )::text
        FROM ({sql}) q"""
    with connections[qs.db].cursor() as cur:
        cur.execute(outer, params)
        return cur.fetchone()[0]


class GeoJSONRenderer(JSONRenderer):
    """Lets clients ask for application/geo+json (errors are plain JSON bodies either way)."""

    media_type = GEOJSON


RENDERERS = [GeoJSONRenderer, JSONRenderer]
# The OpenAPI response of a map layer: a GeoJSON FeatureCollection (RFC 7946).
FEATURE_COLLECTION = {
    "type": "object", "required": ["type", "features"],
    "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                   "features": {"type": "array", "items": {
                       "type": "object", "required": ["type", "geometry", "properties"],
                       "properties": {"type": {"type": "string", "enum": ["Feature"]},
                                      "geometry": {"type": "object", "nullable": True},
                                      "properties": {"type": "object", "nullable": True}}}}},
}


def geojson_view(view):
    """A GET map layer answering GeoJSON text: DRF's login check and JSON errors,
    application/geo+json for clients that ask for it, gzip for those that take it (map layers are
    large, carry no secrets and often go to phones; not site-wide, which would expose the HTML
    pages' CSRF tokens to BREACH)."""
    return gzip_page(extend_schema(responses={200: FEATURE_COLLECTION})(api_view(["GET"])(renderer_classes(RENDERERS)(view))))
