"""Unit reports' and the dashboard figures' API routes, included under /api/v1/ by housing_safety/api/urls.py (names
api:reports-list, api:reports-detail and api:figures-list)."""

from django.urls import path

from housing_safety.api.views import resource_urls

from . import api

urlpatterns = [
    *resource_urls("reports", api.ReportViewSet),
    path("figures/", api.FiguresView.as_view(), name="figures-list"),  # -list: the API root links it
]
