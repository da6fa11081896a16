"""Endpoints that answer a file: their ?format= names the file to write (csv, xlsx, geojson,
gpkg, shp), not DRF's renderer, so DRF must not pick a renderer by it (it would answer 404);
errors still answer JSON."""
from rest_framework.negotiation import DefaultContentNegotiation


class FileNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
