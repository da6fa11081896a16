from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """The leaders' view (统计分析): heat bins, hotspots, dashboards, assessment and exports.
    Reads every other app through its selectors and writes nothing of theirs."""

    name = "gridmap.analytics"
    verbose_name = _("Analytics (统计分析)")
    default_auto_field = "django.db.models.BigAutoField"
