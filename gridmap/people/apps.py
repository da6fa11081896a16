from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "gridmap.people"
    verbose_name = "人口 People"
