"""The inbox (站内消息): a user's own notices, opened one by one or marked read all at once."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from . import notices as service
from .models import Notice
from .pagination import BoundedPaginator
from .web import POST, page


@page()
def notices(request):
    page_ = BoundedPaginator(service.notices_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "notices.html", {"page": page_, "unread": service.unread_count(request.user)})


@page(methods=POST)
def open_notice(request, pk: int):
    """Mark the notice read and go to its item; another user's notice is a 404 and stays unread."""
    try:
        notice = service.mark_read(user=request.user, notice_id=pk)
    except Notice.DoesNotExist as missing:
        raise Http404 from missing
    if notice.url and url_has_allowed_host_and_scheme(notice.url, allowed_hosts={request.get_host()}):
        return redirect(notice.url)
    return redirect("notices")


@page(methods=POST)
def mark_all_read(request):
    marked = service.mark_all_read(user=request.user)
    messages.success(request, _("%(count)d notices marked read.") % {"count": marked})
    return redirect("notices")
