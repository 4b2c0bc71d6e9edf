from django.urls import path

from . import list_views

app_name = "households"

urlpatterns = [
    path("lists/", list_views.list_index, name="lists"),
    path("lists/reconciliation/", list_views.reconciliation, name="reconciliation"),
    path("lists/reconciliation.xlsx", list_views.reconciliation_export, name="reconciliation-export"),
    path("lists/<id:pk>/", list_views.list_detail, name="list"),
    path("lists/<id:pk>/confirm/", list_views.list_confirm, name="list-confirm"),
    path("lists/<id:pk>/invalid.xlsx", list_views.list_invalid_rows, name="list-invalid"),
    path("lists/proposals/", list_views.proposal_list, name="proposals"),
    path("lists/proposals/<id:pk>/decide/", list_views.proposal_decide, name="proposal-decide"),
]
