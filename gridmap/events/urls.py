from django.urls import path

from . import api

app_name = "events"

urlpatterns = [
    path("api/events/report/", api.ReportView.as_view(), name="report"),
]
