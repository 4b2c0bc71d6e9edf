import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class ChineseFirstLocaleMiddleware:
    """Chinese unless the user chose English with the language switch (the cookie set by set_language).

    Django's LocaleMiddleware would follow the browser's Accept-Language; civil servants' machines are
    often set to English, and the system of record is Chinese first.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


class NulInQueryMiddleware:
    """A query string with a NUL character is a 400 in Chinese. PostgreSQL neither stores nor compares text with
    NUL, and every list that hands a query parameter to the database as text (the admin's filters and searches,
    the libraries' lists too) was a 500 there. Forms refuse NUL themselves (ProhibitNullCharactersValidator); no
    link of the system carries one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in name or any("\x00" in value for value in values) for name, values in request.GET.lists()):
            return render(
                request,
                "public/message.html",
                {
                    "title": _("Bad request"),
                    "message": _("The address holds a character that is not allowed (NUL). Check the link."),
                },
                status=400,
            )
        return self.get_response(request)


MUST_CHANGE_PASSWORD = "must_change_password"  # session key, set at login from the user's profile


API_PREFIX = "/api/"


def api_error(status: int, code: str, message: str) -> JsonResponse:
    """A middleware's refusal of an API call, in the API's error shape (housing_safety.api.exceptions)."""
    return JsonResponse({"errors": [{"field": None, "code": code, "message": str(message)}]}, status=status)


class PasswordChangeRequiredMiddleware:
    """A demo account, a new account or one whose password an administrator reset must choose its own password
    before anything else: every page but the password change itself (and logging out) redirects there, carrying the
    page asked for as `next` (households.views.PasswordChange goes on to it, or to the user's home)."""

    ALLOWED = ("admin:password_change", "admin:logout", "set_language")
    # Where a login without a `next` lands: not a page the user asked for, so the change leads to their home instead.
    DEFAULT_LANDINGS = ("admin:index", "home")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.session.get(MUST_CHANGE_PASSWORD) and request.user.is_authenticated:
            allowed = {reverse(name) for name in self.ALLOWED}
            if request.path_info not in allowed and not request.path_info.startswith(settings.STATIC_URL):
                if request.path_info.startswith(API_PREFIX):  # the API answers in its JSON shape, never a redirect
                    return api_error(
                        403, "password_change_required", _("Please choose your own password before you continue.")
                    )
                messages.warning(request, _("Please choose your own password before you continue."))
                target = reverse("admin:password_change")
                if request.method == "GET" and request.path_info not in {reverse(n) for n in self.DEFAULT_LANDINGS}:
                    target += "?" + urlencode({"next": request.get_full_path()})
                return redirect(target)
        return self.get_response(request)


# Every logout route of the site, by URL name: the shell's button posts to the admin's (housing_safety/tests/
# test_logout_clears_site_data.py finds every route served by a logout view and fails on one missing here).
LOGOUT_VIEWS = ("admin:logout",)
CLEAR_SITE_DATA = '"cache", "storage"'


class ClearSiteDataOnLogoutMiddleware:
    """A logout tells the browser to wipe what the site stored there (`Clear-Site-Data: "cache", "storage"`): the
    field app's offline package and queue (IndexedDB), its caches and its service worker (docs/field-app.md), so a
    shared or lost phone keeps no household after its worker signed out. Only an explicit logout that went through:
    a session ended by idling (SessionIdleMiddleware) keeps the entries still queued for the next sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if (
            match is not None
            and match.view_name in LOGOUT_VIEWS
            and request.method == "POST"
            and response.status_code < 400
            and not request.user.is_authenticated
        ):
            response["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response


SEEN = "_seen"  # session key: when the idle clock was last renewed (epoch seconds)
RENEW_SECONDS = 300


def mark_session_active(session) -> None:
    """Start or renew the idle clock of a logged-in session (at login, and by SessionIdleMiddleware)."""
    session[SEEN] = int(time.time())


class SessionIdleMiddleware:
    """A logged-in session ends after SESSION_IDLE_SECONDS without a request.

    The clock is renewed at most every RENEW_SECONDS, so requests seldom write the session: a session ends between
    SESSION_IDLE_SECONDS - RENEW_SECONDS and SESSION_IDLE_SECONDS after its last request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now, seen = int(time.time()), request.session.get(SEEN, 0)
            if now - seen > settings.SESSION_IDLE_SECONDS:
                logout(request)
                if request.path_info.startswith(API_PREFIX):
                    return self.get_response(request)  # signed out: the API's own 401 in JSON, not the login page
                messages.info(request, _("You were logged out after a period without activity."))
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            if now - seen > RENEW_SECONDS:
                mark_session_active(request.session)
        return self.get_response(request)


DATABASE_DOWN = (OperationalError, InterfaceError)  # cannot connect; the connection broke or was closed


def database_unavailable_response() -> HttpResponse:
    """503 in the user's language, rendered without the request so that nothing on the page needs the database
    (no user, permissions, messages or session: templates/public/database_unavailable.html)."""
    context = {
        "title": _("Service temporarily unavailable"),
        "message": _("The database is temporarily unavailable. Please try again shortly."),
    }
    response = HttpResponse(render_to_string("public/database_unavailable.html", context), status=503)
    response["Retry-After"] = "30"
    return response


class DatabaseUnavailableMiddleware:
    """A database that is down or restarting (OperationalError, InterfaceError) answers a page with a clean 503
    instead of a server error, and the next request after it is back works again without restarting anything
    (CONN_HEALTH_CHECKS replaces the dead persistent connection). Errors raised by a middleware itself (loading the
    session, say) do not reach process_exception; housing_safety.views.server_error (handler500) answers those."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_DOWN):
            return None
        logger.warning("Database unavailable during %s %s: %s", request.method, request.path, exception)
        return database_unavailable_response()
