from django.urls import path

from . import api, views

app_name = "map"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("api/map/areas/", api.areas, name="areas"),
    path("api/map/buildings/", api.buildings, name="buildings"),
    path("api/map/buildings/<int:z>/<int:x>/<int:y>.mvt", api.building_tile, name="building-tile"),
    path("api/map/facilities/", api.facilities, name="facilities"),
    path("api/map/organisations/", api.organisations, name="organisations"),
    path("api/search/", api.search, name="search"),
    path("api/patch/", api.patch, name="patch"),
]
