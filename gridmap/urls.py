from django.contrib import admin
from django.urls import include, path
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from gridmap.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("gridmap.core.urls")),  # the two-step sign-in page
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),  # OpenAPI 3
    # Swagger UI, assets local; its start-up script from /api/docs/?script= (no inline script under the
    # content security policy); the page's one inline <style> block needs 'unsafe-inline' for styles here only.
    path("api/docs/", csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
         name="api-docs"),
    path("", include("gridmap.events.urls")),  # REST API under /api/
    path("", include("gridmap.events.page_urls")),  # patrol page, inbox
    path("open311/v2/", include("gridmap.events.open311_urls")),
    path("", include("gridmap.people.urls")),  # building floor table, dwellings, person records
    path("", include("gridmap.grids.urls")),  # the boundary editor's API
    path("", include("gridmap.analytics.urls")),  # heat bins, hotspots, dashboards, assessment, exports
    path("", include("gridmap.map.urls")),  # the map page, its layers, search and "my patch"
]
