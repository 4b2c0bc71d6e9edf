"""/api/v1/: the API's root, its OpenAPI document and reference pages, and each app's routes (API_APPS, included by
string: this package imports no app). Every name is in the "api" namespace: api:households-list."""

from django.urls import include, path

from . import views

app_name = "api"

# The apps contributing endpoints, each with its `<app>/api_urls.py`.
API_APPS = ["households", "inspections", "rectification", "reporting", "fieldwork"]
# The apps contributing writes, each with its `<app>/api_write_urls.py` (kept apart from the reads' routes).
API_WRITE_APPS = ["inspections", "rectification"]

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(), name="docs"),
    *[path("", include(f"{app}.api_urls")) for app in API_APPS],
    *[path("", include(f"{app}.api_write_urls")) for app in API_WRITE_APPS],
]
