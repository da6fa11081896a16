from django.urls import path

from . import pages

app_name = "event_pages"

urlpatterns = [
    path("patrol/", pages.patrol, name="patrol"),
    path("inbox/", pages.inbox, name="inbox"),
    path("inbox/read-all/", pages.mark_all_read, name="inbox-read-all"),
]
