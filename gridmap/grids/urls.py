from django.urls import path

from . import api, views

app_name = "grids"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("api/map/areas/", api.areas, name="map-areas"),
    path("api/map/buildings/", api.buildings, name="map-buildings"),
    path("api/map/buildings/<int:z>/<int:x>/<int:y>.mvt", api.building_tile, name="map-building-tile"),
    path("api/map/facilities/", api.facilities, name="map-facilities"),
    path("api/map/organisations/", api.organisations, name="map-organisations"),
    path("api/search/", api.search, name="search"),
    path("api/patch/", api.patch, name="patch"),
]
urlpatterns += [
    path("api/editor/sheet/", api.editor_sheet, name="editor-sheet"),
    path("api/editor/check/", api.editor_check, name="editor-check"),
    path("api/editor/preview/", api.editor_preview, name="editor-preview"),
    path("api/editor/commit/", api.editor_commit, name="editor-commit"),
    path("api/editor/history/<int:grid>/", api.editor_history, name="editor-history"),
]
