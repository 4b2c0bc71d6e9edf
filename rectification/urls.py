from django.urls import path

from . import views

app_name = "rectification"

urlpatterns = [
    path("problems/", views.problem_list, name="problems"),
    path("problems/export.xlsx", views.problem_export, name="problem-export"),
    path("problems/<int:pk>/", views.problem_detail, name="problem"),
    path("problems/<int:pk>/move/", views.problem_move, name="problem-move"),
]
