"""Rectification's API writes (rectification/api_writes.py), included under /api/v1/ by housing_safety/api/urls.py
(API_WRITE_APPS): each a POST under Idempotency-Key."""

from django.urls import path

from . import api_writes

urlpatterns = [
    path("complaints/intake/", api_writes.ComplaintIntakeView.as_view(), name="complaint-intake"),
    path("problems/<id:pk>/moves/", api_writes.ProblemMoveView.as_view(), name="problem-move"),
    path("cases/<id:pk>/moves/", api_writes.CaseStepView.as_view(), name="case-move"),
]
