"""The field app's API routes (the package, who is signed in), included under /api/v1/ by housing_safety/api/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("field/me/", api.MeView.as_view(), name="field-me"),
    path("field/villages/", api.VillagesView.as_view(), name="field-villages"),
    path("field/package/", api.PackageView.as_view(), name="field-package"),
]
