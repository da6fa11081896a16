from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("gridmap.events.urls")),  # REST API under /api/
    path("", include("gridmap.events.page_urls")),  # patrol page, inbox
    path("open311/v2/", include("gridmap.events.open311_urls")),
    path("", include("gridmap.grids.urls")),
]
