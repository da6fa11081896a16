from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "gridmap.demo"
    verbose_name = "演示数据 Demo district"
