from django.urls import path

from . import api, views

app_name = "people"

urlpatterns = [
    path("api/persons/<int:pk>/", api.person, name="person"),
    path("people/<int:pk>/", views.person_page, name="person-page"),
]
