import sys

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import defaults

from . import disclosure
from .middleware import DATABASE_DOWN, database_unavailable_response
from .redirects import safe_next
from .web import GET_POST, page


def rate_limited(request, exception=None):
    """django-ratelimit's answer: 429 with a Chinese explanation, not a bare 403."""
    return render(
        request,
        "public/message.html",
        {"title": _("Too many requests"), "message": _("Please try again in a minute.")},
        status=429,
    )


@page(methods=GET_POST)
def unmask(request, kind: str, pk: int):
    """Ask for one record's full personal data with a reason (GET: the form; POST: log it and go back)."""
    try:
        record = disclosure.find_record(request.user, kind, pk)
    except (LookupError, ObjectDoesNotExist) as missing:
        raise Http404 from missing
    back = safe_next(request)
    error, status = "", 200
    if request.method == "POST":
        try:
            disclosure.unmask(
                user=request.user,
                session=request.session,
                obj=record,
                reason=request.POST.get("reason", ""),
                ip_address=disclosure.client_ip(request),
            )
        except ValidationError as invalid:
            error, status = invalid.messages[0], 400
        else:
            messages.success(
                request,
                _("The full numbers of %(record)s are shown for %(minutes)d minutes. This access is logged.")
                % {"record": record, "minutes": disclosure.UNMASK_MINUTES},
            )
            return redirect(back or "home")
    context = {
        "record": record,
        "next": back,
        "error": error,
        "error_summary": [{"href": "#id_reason", "label": _("Reason"), "message": error}] if error else [],
        "reason": request.POST.get("reason", ""),
        "suggestions": [_("Home visit to check identity"), _("Phone call about the case"), _("Checking a list")],
        "minutes": disclosure.UNMASK_MINUTES,
    }
    return render(request, "unmask.html", context, status=status)


def server_error(request):
    """handler500: a database that is down is the 503 page wherever it was noticed, also in a middleware (the
    session is loaded there) where DatabaseUnavailableMiddleware.process_exception does not see it; any other error
    is Django's own 500 page. (With DEBUG on, Django shows its debug page before this is asked.)"""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return database_unavailable_response()
    return defaults.server_error(request)
