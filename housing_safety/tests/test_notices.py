"""The inbox (站内消息): notify reaches each active person once and e-mails the addresses there are; a user reads and
marks only their own notices; the shell's badge counts the unread ones without a query on every page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from households.models import Unit
from households.selectors import people_of_unit, people_of_units, units_nobody_can_receive
from households.tests.factories import make_user, township
from housing_safety.access import Role
from housing_safety.models import Notice, OutgoingEmail
from housing_safety.notices import notify, unread_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def chen():
    return make_user(Role.TOWNSHIP_STAFF, username="chen", townships=[township("350881100")])


@pytest.fixture
def lin():
    return make_user(Role.TOWNSHIP_STAFF, username="lin", townships=[township("350881100")])


def badge(html: str) -> str | None:
    found = re.search(r'<span class="shell-unread"[^>]*>(\d+)</span>', html)
    return found.group(1) if found else None


def test_notify_reaches_each_active_person_once_and_emails_the_addresses_there_are(
    chen, lin, django_capture_on_commit_callbacks
):
    lin.email = "lin@xinqiao.example"
    lin.save()
    gone = make_user(Role.TOWNSHIP_STAFF, townships=[township("350881100")])
    gone.is_active = False
    gone.save()
    with django_capture_on_commit_callbacks(execute=True):
        reached = notify(
            key="test:1", users=[chen, lin, gone, chen], title="标题", body="正文", url="/", emails=["unit@x.example"]
        )
        again = notify(key="test:1", users=[chen, lin], title="标题", emails=["unit@x.example"])
    assert (reached, again) == (3, 3)  # chen, lin and the unit's address; the inactive colleague is not told
    assert sorted(Notice.objects.values_list("recipient__username", flat=True)) == ["chen", "lin"]
    [message] = mail.outbox
    assert sorted(message.to) == ["lin@xinqiao.example", "unit@x.example"] and message.subject == "标题"
    assert message.body.startswith("正文\n\nhttp") and OutgoingEmail.objects.get().key == "test:1"


def test_nobody_to_notify_reaches_nobody():
    assert notify(key="test:none", users=[], title="标题", emails=["", ""]) == 0
    assert not Notice.objects.exists() and not OutgoingEmail.objects.exists()


def test_the_people_of_a_unit_follow_its_kind(chen, lin):
    xinqiao_unit = Unit.objects.get(township__code="350881100")
    other = Unit.objects.get(township__code="350881101")
    department = Unit.objects.filter(kind=Unit.Kind.DEPARTMENT).first()
    liaison = make_user(Role.DEPARTMENT_LIAISON, unit=department)
    admin, official = make_user(Role.BUREAU_ADMIN), make_user(Role.BUREAU_OFFICIAL)
    make_user(Role.HELPER)
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    assert people_of_unit(xinqiao_unit) == [chen, lin]
    people = people_of_units([xinqiao_unit, other, department, bureau])
    assert people == {
        xinqiao_unit.pk: [chen, lin],
        other.pk: [],
        department.pk: [liaison],
        bureau.pk: [admin, official],
    }
    unreachable = set(units_nobody_can_receive())
    assert other in unreachable and xinqiao_unit not in unreachable and department not in unreachable


def test_the_people_of_many_units_cost_three_queries(chen, django_assert_num_queries):
    units = list(Unit.objects.all())
    with django_assert_num_queries(3):  # township staff, liaisons, the bureau
        people_of_units(units)


def test_the_badge_counts_the_unread_and_mark_all_read_clears_it(client, chen, lin):
    notify(key="a", users=[chen, lin], title="逾期事项一", url="/")
    notify(key="b", users=[chen], title="逾期事项二", url="/")
    client.force_login(chen)
    page = client.get(reverse("notices")).content.decode()
    assert badge(page) == "2" and "2 条未读" in page
    assert page.index("逾期事项二") < page.index("逾期事项一")  # newest first

    response = client.post(reverse("notices-read-all"))
    assert response.status_code == 302 and response.url == reverse("notices")
    assert badge(client.get("/").content.decode()) is None
    assert not Notice.objects.filter(recipient=chen, read_at__isnull=True).exists()
    assert Notice.objects.filter(recipient=lin, read_at__isnull=True).count() == 1  # lin's own stay unread

    notify(key="c", users=[chen], title="逾期事项三", url="/")  # a new notice shows at once
    assert badge(client.get("/").content.decode()) == "1"


def test_opening_a_notice_marks_it_read_and_goes_to_its_item(client, chen):
    notify(key="a", users=[chen], title="旧消息", url="/")
    notify(key="b", users=[chen], title="帮扶人报告", url=reverse("inspections:reports"))
    old = Notice.objects.get(key="a")
    client.force_login(chen)
    client.post(reverse("notice-open", args=[old.pk]))
    report = Notice.objects.get(key="b")
    listed = client.get(reverse("notices")).content.decode()
    assert listed.index("帮扶人报告") < listed.index("旧消息")  # unread first
    assert client.get(reverse("notice-open", args=[report.pk])).status_code == 405  # only a POST marks it read
    response = client.post(reverse("notice-open", args=[report.pk]))
    assert response.status_code == 302 and response.url == reverse("inspections:reports")
    report.refresh_from_db()
    assert report.read_at is not None and unread_count(chen) == 0


def test_a_link_to_another_site_is_not_followed(client, chen):
    notify(key="a", users=[chen], title="消息", url="https://evil.example/")
    client.force_login(chen)
    response = client.post(reverse("notice-open", args=[Notice.objects.get().pk]))
    assert response.url == reverse("notices")


def test_nobody_reads_or_marks_another_users_notice(client, chen, lin):
    notify(key="a", users=[lin], title="林的消息", url="/")
    theirs = Notice.objects.get()
    client.force_login(chen)
    assert client.post(reverse("notice-open", args=[theirs.pk])).status_code == 404
    assert "林的消息" not in client.get(reverse("notices")).content.decode()
    client.post(reverse("notices-read-all"))
    theirs.refresh_from_db()
    assert theirs.read_at is None and unread_count(lin) == 1


def test_the_badge_costs_no_query_once_counted(client, chen):
    notify(key="a", users=[chen], title="消息", url="/")
    client.force_login(chen)
    client.get("/")  # counted once, then cached
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/").content.decode()
    assert badge(page) == "1"
    assert not [query for query in queries.captured_queries if "housing_safety_notice" in query["sql"]]


def test_anonymous_visitors_go_to_the_login_page(client):
    assert "/login/" in client.get(reverse("notices")).url
    assert "/login/" in client.post(reverse("notices-read-all")).url
