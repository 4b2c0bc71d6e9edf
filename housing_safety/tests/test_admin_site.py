"""The project's admin site: every ModelAdmin on it, ours and the libraries', refuses a list action naming rows by
something that is not an id (found by test_fuzz.py: a 500 inside Django's filter), like a request naming none."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django_celery_beat.models import IntervalSchedule

from households.tests.factories import VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.admin_site import AdminSite, UntrustedInputMixin
from housing_safety.models import OutgoingEmail

pytestmark = pytest.mark.django_db


def test_admin_site_is_the_projects_and_every_model_admin_follows_its_rules():
    assert isinstance(admin.site._wrapped if hasattr(admin.site, "_wrapped") else admin.site, AdminSite)
    assert {type(model_admin).__module__.split(".")[0] for model_admin in admin.site._registry.values()} >= {
        "axes", "django_celery_beat", "households", "housing_safety",  # Django's groups: housing_safety.admin
    }  # fmt: skip
    unruly = [type(m).__name__ for m in admin.site._registry.values() if not isinstance(m, UntrustedInputMixin)]
    assert not unruly


@pytest.fixture
def superuser(db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root", "root@example.com", "Root-password-2026")


@pytest.mark.parametrize("selected", ["不是编号", "a\x00b", "=1+1", ""])
@pytest.mark.parametrize(
    ("url", "action", "make"),
    [
        ("/admin/households/village/", "delete_selected", lambda: VillageFactory(township=township("350881100"))),
        ("/admin/housing_safety/outgoingemail/", "send_now", lambda: OutgoingEmail.objects.create(
            key="k", recipients=["a@example.com"], subject="s", body="b")),
        ("/admin/django_celery_beat/intervalschedule/", "delete_selected", lambda: IntervalSchedule.objects.create(
            every=5, period=IntervalSchedule.MINUTES)),
    ],
)  # fmt: skip
def test_an_action_on_rows_named_by_something_else_than_an_id_is_refused(
    client, superuser, url, action, make, selected
):
    row = make()
    client.force_login(superuser)

    response = client.post(url, {"action": action, "_selected_action": [str(row.pk), selected], "index": "0"})

    assert response.status_code == 302
    assert [m.message for m in get_messages(response.wsgi_request)] == [
        "条目必须选中以对其进行操作。没有任何条目被更改。"
    ]
    assert type(row).objects.filter(pk=row.pk).exists()


def test_an_action_on_real_ids_still_runs(client):
    """Control: the same request with ids only reaches the action (the delete confirmation page)."""
    village = VillageFactory(township=township("350881100"))
    client.force_login(make_user(Role.BUREAU_ADMIN))

    response = client.post(
        "/admin/households/village/", {"action": "delete_selected", "_selected_action": [str(village.pk)], "index": "0"}
    )

    assert response.status_code == 200 and village.name in response.content.decode()


@pytest.mark.parametrize("value", ["一二三", "a\x00b", "=1+1", "1.5"])
def test_an_autocomplete_value_that_is_no_id_shows_as_no_choice(client, value):
    """The dwelling form's household autocomplete, sent back with errors or opened with ?household=…: the value
    is looked up to show the chosen household (a 500 for one that is no id)."""
    from households.models import Dwelling

    client.force_login(make_user(Role.BUREAU_ADMIN))
    body = {"household": value, "address": "三组", "structure_type": "frame", "storeys": "1"}

    posted = client.post("/admin/households/dwelling/add/", body)
    opened = client.get("/admin/households/dwelling/add/", {"household": value})

    assert posted.status_code == 200 and "household" in posted.context["adminform"].form.errors
    assert opened.status_code == (400 if "\x00" in value else 200)  # NUL in a query: test_query_nul.py
    assert not Dwelling.objects.exists()


def test_an_autocomplete_shows_the_chosen_record(client):
    """Control: a real id shows as the chosen household."""
    from households.tests.factories import HouseholdFactory

    household = HouseholdFactory(village=VillageFactory(township=township("350881100")), head_name="陈自动")
    client.force_login(make_user(Role.BUREAU_ADMIN))

    opened = client.get("/admin/households/dwelling/add/", {"household": household.pk})

    assert f'<option value="{household.pk}" selected>' in opened.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "attempt_time__year=1234567890123456789012345",  # found by test_fuzz.py: OverflowError in Django
        "attempt_time__year=9999",  # the year after it does not exist: ValueError outside Django's guard
        "attempt_time__year=9999&attempt_time__month=12&attempt_time__day=31",
        "attempt_time__year=2026&attempt_time__month=99999999999999999999999",
    ],
)
@pytest.mark.parametrize("url", ["/admin/axes/accesslog/", "/admin/reporting/monthlyreport/"])
def test_a_date_hierarchy_beyond_the_calendar_is_a_refused_filter_not_a_server_error(client, superuser, url, query):
    client.force_login(superuser)
    query = query.replace("attempt_time", "period") if "reporting" in url else query

    response = client.get(f"{url}?{query}")

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_date_hierarchy_within_the_calendar_still_filters(client, superuser):
    client.force_login(superuser)

    assert client.get("/admin/axes/accesslog/?attempt_time__year=2026&attempt_time__month=12").status_code == 200
