"""Appraisals' and revisits' API routes, included under /api/v1/ by housing_safety/api/urls.py (names
api:<resource>-list and api:<resource>-detail)."""

from housing_safety.api.views import resource_urls

from . import api

urlpatterns = [
    *resource_urls("appraisals", api.AppraisalViewSet),
    *resource_urls("revisits", api.RevisitViewSet),
]
