"""The heatmap endpoints and page (thin: parse the selection, read, answer)."""

urlpatterns = []
