"""The analytics pages and API, one module of endpoints per topic."""
from . import assessment_api, dashboards_api, heatmap_api, hotspots_api

app_name = "analytics"

urlpatterns = [*heatmap_api.urlpatterns, *hotspots_api.urlpatterns, *dashboards_api.urlpatterns, *assessment_api.urlpatterns]
