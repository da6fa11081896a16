from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "gridmap.grids"
    verbose_name = "网格 Grids"
