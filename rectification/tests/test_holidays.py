"""The holiday table (issue 24, "Working days after 2026"): the bureau enters each year's State Council holiday notice
itself, the table wins over the chinese-calendar package, next year missing is announced from 1 December, and
entering a year recomputes the deadlines counted meanwhile and tells the people whose deadline moved.

The plan: "对群众举报投诉……按规定时限办理" — deadlines in working days, which only the State Council's yearly notice
defines. chinese-calendar 1.11.0 knows 2004 to 2026; 2027's notice is not in it.

Dates are frozen the project's way: services take the day as an argument; pages read `timezone.localdate()`, which
the `on` fixture sets (the project uses neither time-machine nor freezegun).
"""

from __future__ import annotations

import datetime

import chinese_calendar
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from households.models import Unit
from housing_safety import holidays
from housing_safety.access import Role
from housing_safety.models import HolidayDay, HolidayYear, Notice, OutgoingEmail
from housing_safety.workdays import Calendar, add_working_days, is_working_day, last_known_year, year_days
from rectification import services
from rectification.models import Complaint, ComplaintDeadline, ComplaintStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
D = datetime.date
C = ComplaintStatus
MISSING_LINE = "2027 年节假日安排尚未录入：投诉的受理和办理期限将按周一至周五估算"

# A made-up 2027 notice (the real one was not known when this was written): 元旦 1-3 January, 春节 6-14 February
# with the make-up working day Saturday 20 February. What matters is that it differs from Monday to Friday.
NOTICE_2027 = {
    "off": [D(2027, 1, 1), D(2027, 1, 2), D(2027, 1, 3)] + [D(2027, 2, 6) + datetime.timedelta(n) for n in range(9)],
    "work": [D(2027, 2, 20)],
}


@pytest.fixture
def on(monkeypatch):
    """Set the day the pages see as today (timezone.localdate() without an argument)."""
    real = timezone.localdate

    def freeze(day: datetime.date):
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: real(*args, **kwargs) if args else day)

    return freeze


@pytest.fixture
def clerk(personas):
    return personas[Role.COMPLAINT_CLERK]


def enter_2027(actor) -> int:
    """What the admin's save does (housing_safety.holiday_admin): the year before, the rows, the recompute."""
    before = holidays.days_before_change(2027)
    calendar = HolidayYear.objects.create(year=2027, notice_number="国办发明电〔2026〕测试号", entered_by=actor)
    HolidayDay.objects.bulk_create(
        [HolidayDay(calendar=calendar, day=day, kind="off", name="春节") for day in NOTICE_2027["off"]]
        + [HolidayDay(calendar=calendar, day=day, kind="work", name="春节") for day in NOTICE_2027["work"]]
    )
    return holidays.year_changed(year=2027, before=before, actor=actor)


def log(clerk, received: datetime.datetime, category=Complaint.Category.OTHER) -> Complaint:
    complaint = Complaint(
        channel=Complaint.Channel.HOTLINE, received_at=received, reporter_name="王举报", category=category,
        content="东坑村李家土坯房裂缝严重，仍有人居住",
    )  # fmt: skip
    return services.log_complaint(actor=clerk, complaint=complaint)[0]


# 1. The table, the package and the estimate ------------------------------------------------------------------------


def test_every_year_the_package_knows_is_prefilled_and_2026_equals_it_day_by_day():
    assert list(HolidayYear.objects.order_by("year").values_list("year", flat=True)) == list(range(2004, 2027))
    assert year_days(2026).source == "table"
    day = D(2026, 1, 1)
    while day.year == 2026:
        assert is_working_day(day) == (chinese_calendar.is_workday(day), False), day
        day += datetime.timedelta(days=1)
    spring = HolidayDay.objects.get(day=D(2026, 2, 17))
    assert (spring.kind, spring.name) == ("off", "春节")
    assert HolidayDay.objects.get(day=D(2026, 2, 14)).kind == "work"  # 调休上班, a Saturday


def test_the_table_overrides_the_package():
    """A made-up day off (Wednesday 3 June 2026) and make-up working day (Saturday 6 June) in the table win."""
    assert is_working_day(D(2026, 6, 3)) == (True, False)
    calendar = HolidayYear.objects.get(year=2026)
    HolidayDay.objects.create(calendar=calendar, day=D(2026, 6, 3), kind="off", name="测试")
    HolidayDay.objects.create(calendar=calendar, day=D(2026, 6, 6), kind="work", name="测试")
    assert chinese_calendar.is_workday(D(2026, 6, 3)) is True  # the package says otherwise
    assert is_working_day(D(2026, 6, 3)) == (False, False)
    assert is_working_day(D(2026, 6, 6)) == (True, False)
    assert add_working_days(D(2026, 6, 2), 1).day == D(2026, 6, 4)


def test_a_year_in_neither_counts_monday_to_friday_as_an_estimate():
    assert last_known_year() == 2026
    assert is_working_day(D(2027, 2, 8)) == (True, True)  # 春节 2027, unknown
    assert is_working_day(D(2027, 2, 6)) == (False, True)
    assert add_working_days(D(2026, 12, 30), 2) == add_working_days(D(2026, 12, 30), 2)
    assert add_working_days(D(2026, 12, 30), 2).estimated is True


def test_a_year_is_read_once_for_many_deadlines(django_assert_max_num_queries):
    """Set-based: one query per year however many days and deadlines are counted, and none once cached."""
    calendar = Calendar()
    with django_assert_max_num_queries(3):  # 2025, 2026, 2027
        for offset in range(200):
            calendar.add_working_days(D(2025, 6, 1) + datetime.timedelta(days=offset), 120)
    with django_assert_max_num_queries(0):
        for offset in range(50):
            add_working_days(D(2026, 1, 1) + datetime.timedelta(days=offset), 15)


# 2. Next year missing: the home, /healthz and the notice, from 1 December only ---------------------------------------


def test_the_warning_shows_on_the_admins_home_and_healthz_from_1_december_only(client, personas, on, settings):
    settings.CELERY_BROKER_URL = ""
    Unit.objects.filter(receives_lead_report=True).update(email="jiwei@zhangping.example")  # only holidays missing
    admin, staff = personas[Role.BUREAU_ADMIN], personas[Role.TOWNSHIP_STAFF]
    add = reverse("admin:housing_safety_holidayyear_add") + "?year=2027"
    on(D(2026, 11, 30))
    client.force_login(admin)
    assert MISSING_LINE not in client.get("/").content.decode()
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "broker": "not configured"}

    on(D(2026, 12, 1))
    home = client.get("/").content.decode()
    assert MISSING_LINE in home and f'href="{add}"' in home
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "degraded", "database": "ok", "broker": "not configured", "holidays": "2027 missing"
    }  # fmt: skip
    client.force_login(staff)
    assert MISSING_LINE not in client.get("/").content.decode()  # the administrator's task only

    enter_2027(admin)
    client.force_login(admin)
    assert MISSING_LINE not in client.get("/").content.decode()
    assert client.get("/healthz").json()["status"] == "ok"


def test_the_admin_is_told_once_and_only_once_someone_was_reached(personas):
    admin = personas[Role.BUREAU_ADMIN]
    assert holidays.announce_missing_year(D(2026, 11, 30)) == 0
    admin.is_active = False
    admin.save()
    assert holidays.announce_missing_year(D(2026, 12, 1)) == 0  # nobody to tell: not announced, tried again
    assert not Notice.objects.filter(key="holidays-missing:2027").exists()

    admin.is_active = True
    admin.save()
    assert holidays.announce_missing_year(D(2026, 12, 2)) == 1
    notice = Notice.objects.get(key="holidays-missing:2027")
    assert notice.recipient == admin and notice.title == MISSING_LINE
    assert notice.url == reverse("admin:housing_safety_holidayyear_add") + "?year=2027"
    assert holidays.announce_missing_year(D(2026, 12, 3)) == 0  # not every day
    assert Notice.objects.filter(key="holidays-missing:2027").count() == 1
    assert OutgoingEmail.objects.filter(key="holidays-missing:2027").count() == (1 if admin.email else 0)


def test_the_daily_sweep_announces_it(personas):
    from reporting.jobs import run_job

    assert "told 1 of next year's missing holidays" in run_job("deadline_sweep", D(2026, 12, 1))
    assert "missing holidays" not in run_job("deadline_sweep", D(2026, 12, 2))


# 3. Entering 2027 recomputes what was estimated -----------------------------------------------------------------------


@pytest.fixture
def open_complaint_of_official(clerk, personas):
    ComplaintDeadline.objects.filter(category=Complaint.Category.OTHER).update(acceptance_days=3, handling_days=60)
    complaint = log(clerk, timezone.make_aware(datetime.datetime(2026, 12, 1, 10)))
    services.move_complaint(actor=clerk, complaint=complaint, to=C.ACCEPTED)
    official = personas[Role.BUREAU_OFFICIAL]
    return services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=official)


def test_entering_2027_recomputes_an_open_complaint_across_the_spring_festival_and_tells_its_handler(
    open_complaint_of_official, clerk, personas
):
    complaint, official, admin = open_complaint_of_official, personas[Role.BUREAU_OFFICIAL], personas[Role.BUREAU_ADMIN]
    assert (complaint.acceptance_due, complaint.handling_due, complaint.deadline_estimated) == (
        D(2026, 12, 4), D(2027, 2, 23), True  # Monday to Friday straight through the Spring Festival
    )  # fmt: skip
    # Since then the bureau gave the category fewer days: the complaint keeps the 60 it was given.
    ComplaintDeadline.objects.filter(category=Complaint.Category.OTHER).update(handling_days=15)
    closed = log(clerk, timezone.make_aware(datetime.datetime(2026, 12, 1, 11)))
    Complaint.objects.filter(pk=closed.pk).update(status=C.CLOSED, handling_due=D(2027, 2, 23))

    assert enter_2027(admin) == 1
    complaint.refresh_from_db()
    # 元旦 (Friday 1 January) and 春节 (five weekdays) off, Saturday 20 February worked: five working days later.
    assert (complaint.acceptance_due, complaint.handling_due, complaint.deadline_estimated) == (
        D(2026, 12, 4), D(2027, 3, 2), False
    )  # fmt: skip
    latest = complaint.history.latest()
    assert latest.history_change_reason == "按 2027 年节假日安排重算期限" and latest.history_user == admin
    assert Complaint.objects.get(pk=closed.pk).handling_due == D(2027, 2, 23)  # closed: left as it was

    notice = Notice.objects.get(recipient=official, key__startswith="complaint-deadlines-recomputed:2027:")
    assert notice.title == "2027 年节假日安排已录入：您经办的投诉期限有变动"
    assert f"{complaint.ticket}：受理期限 2026-12-04 → 2026-12-04，办理期限 2027-02-23 → 2027-03-02" in notice.body
    assert notice.url == complaint.get_absolute_url()

    # The same days saved again move nothing and tell nobody again.
    before = holidays.days_before_change(2027)
    assert holidays.year_changed(year=2027, before=before, actor=admin) == 0
    assert Notice.objects.filter(key__startswith="complaint-deadlines-recomputed:").count() == 1


def test_before_assignment_the_clerk_who_logged_it_is_told(clerk, personas):
    ComplaintDeadline.objects.filter(category=Complaint.Category.OTHER).update(handling_days=60)
    complaint = log(clerk, timezone.make_aware(datetime.datetime(2026, 12, 1, 10)))
    enter_2027(personas[Role.BUREAU_ADMIN])
    assert Notice.objects.filter(recipient=clerk, key__startswith="complaint-deadlines-recomputed:").exists()
    complaint.refresh_from_db()
    assert complaint.handling_due == D(2027, 3, 2)


def test_the_recompute_reads_complaints_once_whatever_their_number(clerk, personas, django_assert_max_num_queries):
    ComplaintDeadline.objects.filter(category=Complaint.Category.OTHER).update(handling_days=60)
    for hour in range(8, 14):
        log(clerk, timezone.make_aware(datetime.datetime(2026, 12, 1, hour)))
    cache.clear()
    # Reading 2027 and the complaints, one batch of updates and one of history rows, one notice and its e-mail
    # to the one clerk: not one query per complaint.
    with django_assert_max_num_queries(14):
        assert enter_2027(personas[Role.BUREAU_ADMIN]) == 6


# 4. The admin -------------------------------------------------------------------------------------------------------


def admin_post(client, *rows, year="2027", follow=False):
    data = {
        "year": year, "notice_number": "国办发明电〔2026〕测试号", "notice_date": "",
        "days-TOTAL_FORMS": str(len(rows)), "days-INITIAL_FORMS": "0", "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000", "_save": "保存",
    }  # fmt: skip
    for index, (day, kind, name) in enumerate(rows):
        data |= {f"days-{index}-day": day, f"days-{index}-kind": kind, f"days-{index}-name": name}
    return client.post(reverse("admin:housing_safety_holidayyear_add"), data, follow=follow)


@pytest.mark.parametrize(
    ("rows", "year", "error"),
    [
        ((("2026-02-08", "off", "春节"),), "2027", "该日期不在 2027 年内。"),
        ((("2027-02-08", "off", "春节"), ("2027-02-08", "off", "春节")), "2027", "2027-02-08 重复填写了。"),
        ((("2027-02-08", "work", "春节"),), "2027", "调休上班日应为周六或周日；周一至周五本来就是工作日。"),
        ((), "2026", "2026 年的节假日安排已录入，请修改该年份的记录。"),
        ((), "1999", "年份 1999 不合理，请填写 2000 至"),
    ],
)
def test_bad_input_in_the_admin_is_refused_in_chinese(client, personas, rows, year, error):
    client.force_login(personas[Role.BUREAU_ADMIN])
    response = admin_post(client, *rows, year=year)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not HolidayYear.objects.filter(year=int(year)).exclude(source="package").exists()


def test_entering_2027_in_the_admin_recomputes_and_says_so(client, personas, open_complaint_of_official):
    admin = personas[Role.BUREAU_ADMIN]
    client.force_login(admin)
    page = client.get(reverse("admin:housing_safety_holidayyear_add") + "?year=2027")
    assert page.status_code == 200 and 'value="2027"' in page.content.decode()
    rows = [(f"{day:%Y-%m-%d}", "off", "春节") for day in NOTICE_2027["off"]]
    rows += [(f"{day:%Y-%m-%d}", "work", "春节") for day in NOTICE_2027["work"]]
    response = admin_post(client, *rows, follow=True)
    assert "已按 2027 年节假日安排重算 1 条记录的期限，并已通知相关人员。" in response.content.decode()
    entered = HolidayYear.objects.get(year=2027)
    assert (entered.source, entered.entered_by, entered.days.count()) == ("entered", admin, 13)
    assert Complaint.objects.get(pk=open_complaint_of_official.pk).handling_due == D(2027, 3, 2)
    assert client.get(reverse("admin:housing_safety_holidayyear_changelist")).status_code == 200


def test_only_the_bureau_administrator_may_enter_a_year(client, personas):
    for role in (Role.BUREAU_OFFICIAL, Role.COMPLAINT_CLERK, Role.TOWNSHIP_STAFF):
        client.force_login(personas[role])
        assert admin_post(client, ("2027-02-08", "off", "春节")).status_code in (302, 403)
    assert not HolidayYear.objects.filter(year=2027).exists()
