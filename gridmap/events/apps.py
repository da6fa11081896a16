from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "gridmap.events"
    verbose_name = "事件 Events"

    def ready(self):
        # apps below events never import it: open events follow a boundary change through a
        # follower grids calls, and the person and dwelling cards list events through a reader
        from gridmap.grids.followers import Follower, register
        from gridmap.people.selectors import EVENT_READERS

        from . import selectors, services

        register(Follower("events", selectors.redraw_preview, services.follow_redraw))
        EVENT_READERS["recent"] = selectors.recent_about
