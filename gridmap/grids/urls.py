from django.urls import path

from . import api, views

app_name = "grids"

urlpatterns = [
    path("editor/", views.editor, name="editor"),
    path("api/editor/sheet/", api.editor_sheet, name="editor-sheet"),
    path("api/editor/check/", api.editor_check, name="editor-check"),
    path("api/editor/preview/", api.editor_preview, name="editor-preview"),
    path("api/editor/commit/", api.editor_commit, name="editor-commit"),
    path("api/editor/history/<int:grid>/", api.editor_history, name="editor-history"),
    path("api/editor/suggestions/", api.editor_suggestions, name="editor-suggestions"),
    path("api/editor/import/", api.editor_import, name="editor-import"),
    path("api/editor/export/", api.editor_export, name="editor-export"),
]
