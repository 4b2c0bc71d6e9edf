"""The project's admin site: every ModelAdmin on it, ours and the libraries', refuses a list action naming rows by
something that is not an id (found by test_fuzz.py: a 500 inside Django's filter), like a request naming none."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django_celery_beat.models import IntervalSchedule

from households.tests.factories import VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.admin_site import AdminSite, SelectedRowsMixin
from housing_safety.models import OutgoingEmail

pytestmark = pytest.mark.django_db


def test_admin_site_is_the_projects_and_every_model_admin_follows_its_rules():
    assert isinstance(admin.site._wrapped if hasattr(admin.site, "_wrapped") else admin.site, AdminSite)
    assert {type(model_admin).__module__.split(".")[0] for model_admin in admin.site._registry.values()} >= {
        "axes", "django_celery_beat", "django", "households", "housing_safety",
    }  # fmt: skip
    unruly = [type(m).__name__ for m in admin.site._registry.values() if not isinstance(m, SelectedRowsMixin)]
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
