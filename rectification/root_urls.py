"""The public complaint lookup outside the app's namespace: its name (`complaint-lookup`) and short address are
given to reporters with their query code."""

from django.urls import path

from . import complaint_views

urlpatterns = [
    path("q/", complaint_views.complaint_lookup, name="complaint-lookup"),
]
