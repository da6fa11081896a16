from django.urls import path

from . import api

app_name = "people"

urlpatterns = [
    path("api/persons/<int:pk>/", api.person, name="person"),
]
