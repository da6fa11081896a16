from django.urls import path

app_name = "event_pages"

urlpatterns: list = []
