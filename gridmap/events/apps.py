from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "gridmap.events"
    verbose_name = "事件 Events"

    def ready(self):
        # open events follow a boundary change (grids never imports events)
        from gridmap.grids.followers import Follower, register

        from . import selectors, services

        register(Follower("events", selectors.redraw_preview, services.follow_redraw))
