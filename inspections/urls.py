from django.urls import path

from . import base_village_views, print_views, views

app_name = "inspections"

urlpatterns = [
    path("field/", views.field_home, name="field"),
    path("field/households/<id:pk>/", views.household_detail, name="household"),
    path("field/dwellings/<id:pk>/appraise/", views.appraise_dwelling, name="appraise"),
    path("field/appraisals/<id:pk>/form/", print_views.appraisal_form, name="appraisal-form"),
    path("field/appraisals/blank-form/", print_views.blank_appraisal_form, name="appraisal-form-blank"),
    path("field/villages/<id:pk>/appraisal-forms/", print_views.village_appraisal_forms, name="village-forms"),
    path("safety/overdue/", views.overdue, name="overdue"),
    path("safety/dangerous/", views.dangerous, name="dangerous"),
    path("safety/status/", views.status_overview, name="status"),
    path("placards/issue/", views.issue_placards, name="placard-issue"),
    path("placards/print/", views.print_placards, name="placard-print"),
    path("placards/<id:pk>/install/", views.install_placard, name="placard-install"),
    path("placards/coverage/", views.placard_coverage, name="placard-coverage"),
    path("field/revisits/", views.revisit_list, name="revisits"),
    path("field/revisits/<id:pk>/", views.revisit_record, name="revisit"),
    path("field/reports/", views.report_list, name="reports"),
    path("field/reports/<id:pk>/", views.report_detail, name="report"),
    path("base-villages/", base_village_views.base_village_index, name="base-villages"),
    path("base-villages/<id:pk>/", base_village_views.base_village_list, name="base-village-list"),
    path("base-villages/<id:pk>/confirm/", base_village_views.base_village_confirm, name="base-village-confirm"),
    path("helper/", views.helper_home, name="helper"),
    path("helper/households/<id:pk>/report/", views.helper_report, name="helper-report"),
]
