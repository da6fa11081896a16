from django.urls import path

from . import api, views

app_name = "people"

urlpatterns = [
    path("api/buildings/<int:pk>/floors/", api.building_floors, name="building-floors"),
    path("api/dwellings/<int:pk>/", api.dwelling, name="dwelling"),
    path("api/persons/<int:pk>/", api.person, name="person"),
    path("people/<int:pk>/", views.person_page, name="person-page"),
]
