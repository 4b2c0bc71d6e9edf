"""A logout wipes what the site stored in the browser (housing_safety.middleware.ClearSiteDataOnLogoutMiddleware): the
field app's offline package and queue, its caches and its service worker (docs/field-app.md, "On the phone"). Every
logout route of the site carries it; a session that idled out does not (its queued entries wait for the next
sign-in)."""

import pytest
from django.contrib.auth.views import LogoutView
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.middleware import CLEAR_SITE_DATA, LOGOUT_VIEWS

pytestmark = pytest.mark.django_db


def _routes(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace and (f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace)
            yield from _routes(pattern.url_patterns, inner or namespace)
        elif isinstance(pattern, URLPattern):
            yield (f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name), pattern


def _is_logout(pattern: URLPattern) -> bool:
    view = pattern.callback
    while view is not None:
        view_class = getattr(view, "view_class", None)
        if (view_class and issubclass(view_class, LogoutView)) or getattr(view, "__name__", "") == "logout":
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def test_every_logout_route_of_the_site_is_known():
    found = {name for name, pattern in _routes(get_resolver().url_patterns) if _is_logout(pattern)}
    assert found == set(LOGOUT_VIEWS)  # a new logout route must be added to LOGOUT_VIEWS (and so clear the phone)


@pytest.mark.parametrize("role", [Role.TOWNSHIP_STAFF, Role.HELPER, Role.BUREAU_ADMIN])
def test_logging_out_tells_the_browser_to_clear_the_sites_cache_and_storage(role):
    client = Client()
    client.force_login(make_user(role, townships=[] if role != Role.TOWNSHIP_STAFF else _township()))
    response = client.post(reverse("admin:logout"))
    assert response.status_code in (200, 302)
    assert response["Clear-Site-Data"] == CLEAR_SITE_DATA == '"cache", "storage"'
    assert client.get("/api/v1/field/me/").status_code == 401  # signed out for good


def test_only_a_logout_clears_the_site():
    client = Client()
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    assert not client.get("/").has_header("Clear-Site-Data")
    assert not client.get(reverse("admin:logout")).has_header("Clear-Site-Data")  # a GET logs nobody out (405)
    assert client.get("/").status_code == 200


def test_a_session_that_idled_out_keeps_the_phones_data(clock, settings):
    client = Client()
    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    assert client.get("/").status_code == 200
    clock.advance(settings.SESSION_IDLE_SECONDS + 1)
    for url in ("/", "/api/v1/townships/"):
        response = client.get(url)
        assert response.status_code in (302, 401) and not response.has_header("Clear-Site-Data")


def _township():
    from households.tests.factories import township

    return [township("350881100")]
