"""The home (工作台): what the signed-in person must do now, each line a count linking to the list behind it."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from .web import page
from .workspace import search_for, todos_for


@page()
def home(request):
    groups = todos_for(request.user, timezone.localdate())
    return render(request, "home.html", {"groups": groups})


@page()
def search(request):
    """The search box of every page: households, complaints and cases within the user's scope."""
    term = request.GET.get("q", "")[:100]
    return render(request, "search.html", {"term": term.strip(), "groups": search_for(request.user, term)})
