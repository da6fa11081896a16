"""Open311 GeoReport v2 under /open311/v2/: every method in .json and .xml (see open311.py)."""
from django.urls import re_path

from . import open311

app_name = "open311"

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + FMT, open311.service_list, name="services"),
    re_path(r"^services/(?P<code>[^/]+)" + FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + FMT, open311.request_list, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]+)" + FMT, open311.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/]+)" + FMT, open311.token, name="token"),
    re_path(r"^media/(?P<pk>\d+)\.jpg$", open311.media, name="media"),
]
