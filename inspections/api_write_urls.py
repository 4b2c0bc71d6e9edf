"""Inspections' API writes (inspections/api_writes.py), included under /api/v1/ by housing_safety/api/urls.py
(API_WRITE_APPS): each a POST under Idempotency-Key."""

from django.urls import path

from . import api_writes

urlpatterns = [
    path("dwellings/<id:pk>/appraisals/", api_writes.AppraisalCreateView.as_view(), name="appraisal-create"),
    path("revisits/<id:pk>/record/", api_writes.RevisitRecordView.as_view(), name="revisit-record"),
    path(
        "households/<id:pk>/helper-reports/", api_writes.HelperReportCreateView.as_view(), name="helper-report-create"
    ),
]
