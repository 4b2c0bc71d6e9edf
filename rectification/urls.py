from django.urls import path

from . import case_views, complaint_views, lead_return_views, views

app_name = "rectification"

urlpatterns = [
    path("problems/", views.problem_list, name="problems"),
    path("problems/export.xlsx", views.problem_export, name="problem-export"),
    path("problems/print.pdf", views.problem_print, name="problem-print"),
    path("problems/<id:pk>/", views.problem_detail, name="problem"),
    path("problems/<id:pk>/move/", views.problem_move, name="problem-move"),
    path("renovation/", case_views.case_list, name="cases"),
    path("renovation/dangerous/", case_views.dangerous_without_case, name="dangerous-without-case"),
    path("renovation/new/", case_views.case_new, name="case-new"),
    path("renovation/archive/", case_views.archive_overview, name="archive"),
    path("renovation/archive/<id:pk>/folders/", case_views.township_folders, name="township-folders"),
    path("renovation/subsidies/", case_views.subsidy_overview, name="subsidies"),
    path("renovation/<id:pk>/", case_views.case_detail, name="case"),
    path("renovation/<id:pk>/move/", case_views.case_move, name="case-move"),
    path("renovation/<id:pk>/documents/", case_views.case_documents, name="case-documents"),
    path("renovation/<id:pk>/check/", case_views.case_check, name="case-check"),
    path("renovation/<id:pk>/new-dwelling/", case_views.case_new_dwelling, name="case-new-dwelling"),
    path("renovation/<id:pk>/supplement/", case_views.case_supplement, name="case-supplement"),
    path("renovation/<id:pk>/archive.zip", case_views.case_archive_zip, name="case-archive"),
    path("renovation/<id:pk>/folder.pdf", case_views.case_folder, name="case-folder"),
    path("renovation/<id:pk>/posting.pdf", case_views.case_posting, name="case-posting"),
    path("complaints/", complaint_views.complaint_list, name="complaints"),
    path("complaints/new/", complaint_views.complaint_new, name="complaint-new"),
    path("complaints/export.xlsx", complaint_views.complaint_export, name="complaint-export"),
    path("complaints/<id:pk>/", complaint_views.complaint_detail, name="complaint"),
    path("complaints/<id:pk>/move/", complaint_views.complaint_move, name="complaint-move"),
    path("complaints/<id:pk>/problem/", complaint_views.complaint_problem, name="complaint-problem"),
    path("leads/", complaint_views.lead_list, name="leads"),
    path("leads/new/", complaint_views.lead_new, name="lead-new"),
    path("leads/report.xlsx", complaint_views.lead_report, name="lead-report"),
    path("leads/<id:pk>/receipt/", complaint_views.lead_receipt, name="lead-receipt"),
    path("leads/<id:pk>/feedback/", complaint_views.lead_feedback, name="lead-feedback"),
    # The units' quarterly lead returns (线索季报): a quarter's overview, and one unit's return (the quarter in the
    # path is 1-4, anything else a 404).
    path("leads/returns/", lead_return_views.lead_return_list, name="lead-returns"),
    path("leads/returns/<year:year>/<id:quarter>/<id:unit>/", lead_return_views.lead_return, name="lead-return"),
]
