"""The dashboards endpoints and page (thin: parse the selection, read, answer)."""

urlpatterns = []
