from django.urls import path

from . import api, map_layer

app_name = "events"

urlpatterns = [
    path("api/events/", api.EventListView.as_view(), name="list"),
    path("api/events/map/", map_layer.event_map, name="map"),
    path("api/events/report/", api.ReportView.as_view(), name="report"),
    path("api/events/<int:pk>/", api.EventDetailView.as_view(), name="detail"),
    path("api/events/<int:pk>/actions/", api.EventActionView.as_view(), name="actions"),
    path("api/events/<int:pk>/assignees/", api.EventAssigneesView.as_view(), name="assignees"),
    path("api/events/<int:pk>/photos/<int:photo_pk>/", api.EventPhotoView.as_view(), name="photo"),
    path("api/workflow/", api.WorkflowView.as_view(), name="workflow"),
    path("api/categories/", api.CategoryTreeView.as_view(), name="categories"),
    path("api/categories/<str:code>/", api.CategoryDetailView.as_view(), name="category"),
    path("api/inbox/", api.InboxView.as_view(), name="inbox"),
    path("api/inbox/unread-count/", api.UnreadCountView.as_view(), name="inbox-unread"),
    path("api/inbox/read/", api.MarkReadView.as_view(), name="inbox-read"),
    path("api/inbox/<int:pk>/read/", api.MarkOneReadView.as_view(), name="inbox-read-one"),
]
