from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """The leaders' view (统计分析): heat bins, hotspots, dashboards, assessment and exports.
    Reads every other app through its selectors and writes nothing of theirs."""

    name = "gridmap.analytics"
    verbose_name = "统计分析 Analytics"
    default_auto_field = "django.db.models.BigAutoField"
