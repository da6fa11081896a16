from django.apps import AppConfig


class MapConfig(AppConfig):
    name = "gridmap.map"
    verbose_name = "地图 Map"
