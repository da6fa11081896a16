from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "gridmap.places"
    verbose_name = "房屋与单位 Places"
