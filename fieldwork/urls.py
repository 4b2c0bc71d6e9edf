"""The field app's pages: its shell, its service worker and its manifest (all under /field/app/ and /field/)."""

from django.urls import path

from . import views

app_name = "fieldwork"

urlpatterns = [
    path("field/app/", views.app_shell, name="app"),
    path("field/app/manifest.webmanifest", views.manifest, name="manifest"),
    path("field/sw.js", views.service_worker, name="sw"),
]
