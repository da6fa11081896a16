from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gridmap.core"
    verbose_name = "核心 Core"
