from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("account/two-step/", views.two_step, name="two-step"),
    path("account/two-step/off/", views.two_step_off, name="two-step-off"),
]
