from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "gridmap.events"
    verbose_name = "事件 Events"
