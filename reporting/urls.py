from django.urls import path

from . import paper_views, submission_views, views, year_end_views

app_name = "reporting"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<id:pk>/", views.report_detail, name="report"),
    path("reports/<id:pk>.docx", paper_views.report_docx, name="report-docx"),
    path("reports/<id:pk>/stamped-copy/", paper_views.stamped_copy, name="report-stamped-copy"),
    path("reports/consolidated/<id:pk>.xlsx", views.consolidated_download, name="consolidated"),
    path("reports/consolidated/now.xlsx", views.consolidated_now, name="consolidated-now"),
    path("reports/consolidated/<id:pk>.docx", paper_views.consolidated_docx, name="consolidated-docx"),
    path("reports/consolidated/now.docx", paper_views.consolidated_now_docx, name="consolidated-now-docx"),
    path("reports/year-end/<year:year>/", year_end_views.year_end, name="year-end"),
    path("reports/year-end/<year:year>.xlsx", year_end_views.year_end_workbook, name="year-end-xlsx"),
    path("reports/year-end/<year:year>.docx", year_end_views.year_end_docx, name="year-end-docx"),
    path("reports/longyan/", submission_views.submission_list, name="submissions"),
    path("reports/longyan/<year:year>/", submission_views.submission_detail, name="submission"),
    path("reports/longyan/files/<id:pk>/", submission_views.submission_file, name="submission-file"),
    path("exports/", views.export_index, name="exports"),
    path("exports/<str:dataset>.xlsx", views.export_download, name="export"),
    path("exports/files/<id:pk>/", views.export_file, name="export-file"),
]
