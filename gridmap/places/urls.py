from django.urls import path

from . import api

app_name = "places"

urlpatterns = [
    path("api/buildings/<int:pk>/floors/", api.building_floors, name="building-floors"),
    path("api/dwellings/<int:pk>/", api.dwelling, name="dwelling"),
]
