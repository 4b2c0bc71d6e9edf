"""Complaint hotline (举报投诉) and lead transfers (线索移送): the rules behind rectification/services/complaints.py,
its selectors and pages — working-day deadlines, every illegal move, roles, bad input, reopening, repeats, the
problem opened from a complaint, reporter protection on every page for every role, the public lookup and its
rate limit, ticket numbers and query codes, leads, the quarterly workbook, overdue complaints and query counts."""

from __future__ import annotations

import datetime
import re
from contextlib import contextmanager
from html import unescape
from io import BytesIO

import chinese_calendar
import pytest
from django.contrib.auth import hashers
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from households.models import Unit
from households.services import set_user_role
from households.tests.factories import HouseholdFactory, VillageFactory, make_user
from housing_safety.access import Role
from housing_safety.tests.kit import today
from housing_safety.workdays import add_working_days, last_known_year
from rectification import selectors, services
from rectification.models import (
    Complaint,
    ComplaintDeadline,
    ComplaintStatus,
    ComplaintTransition,
    LeadTransfer,
    Problem,
)
from rectification.services.complaints import COMPLAINT_MOVES, query_code_matches
from rectification.tests.factories import days_ago

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
D = datetime.date
C = ComplaintStatus
Cat = Complaint.Category

REPORTER = "王举报"
PHONE = "13912345678"
MASKED_NAME = "王*报"
MASKED_PHONE = "139****5678"

STATUS_ZH = {
    C.RECEIVED: "已登记",
    C.ACCEPTED: "已受理",
    C.NOT_ACCEPTED: "不予受理",
    C.ASSIGNED: "已交办",
    C.HANDLING: "办理中",
    C.REPLIED: "已答复",
    C.CLOSED: "已办结",
    C.TRANSFERRED: "已移送",
    C.ESCALATED: "已移交纪检监察",
}
NO_PERMISSION = "您没有执行此操作的权限。"
ONLY_HANDLER = "只有承办人本人可以办理。"
OTHER_TOWNSHIP_HANDLER = "该承办人属于其他乡镇（街道）。"
TOWNSHIP_FIRST = "交办给乡镇工作人员前，请先确定举报所属乡镇（街道）。"
HANDLER_NEEDED = "请选择有权办理举报的承办人。"
GIVE_REASON = "请填写理由。"
REPLY_DATE_NEEDED = "请填写答复日期。"
REPLY_DATE_RANGE = "答复日期应在受理日期与今天之间。"
REPLY_METHOD_NEEDED = "请选择答复方式。"
REPLY_NEEDED = "请填写答复内容。"
SATISFACTION_INVALID = "请选择举报人满意度。"
UNIT_NEEDED = "请选择移送单位。"
REPORTER_NEEDED = "请填写举报人姓名或电话，或标记为匿名举报。"
CONTENT_NEEDED = "请填写举报内容。"
FUTURE_RECEIPT = "受理时间不能晚于现在。"
REQUIRED = "这个字段是必填项。"
REPEAT_FLAG = '<span class="flag">重复</span>'
NOT_RECEIPTED = "尚未签收"
NO_MATCH = "未找到与该受理编号和查询码相符的举报。"
OWN_UNIT_ONLY = "只能登记本单位的线索。"
ONE_RECIPIENT = "线索只能移送给一个单位或纪检监察机关。"
RECEIPT_BEFORE_SENDING = "签收日期不能早于移送日期。"
ALREADY_RECEIPTED = "该线索已签收。"
TELL_REPORTER = "请告知举报人"


def cannot_become(frm: str, to: str) -> str:
    return f"该举报当前为“{STATUS_ZH[frm]}”，不能变为“{STATUS_ZH[to]}”（可能已被他人办理，请刷新页面）。"


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """A moment in the bureau's time zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


def log(clerk, **fields) -> tuple[Complaint, str]:
    complaint = Complaint(
        channel=fields.pop("channel", Complaint.Channel.HOTLINE),
        received_at=fields.pop("received_at", timezone.now() - datetime.timedelta(hours=1)),
        reporter_name=fields.pop("reporter_name", REPORTER),
        reporter_phone=fields.pop("reporter_phone", PHONE),
        category=fields.pop("category", Cat.DANGEROUS_NOT_RENOVATED),
        content=fields.pop("content", "东坑村李家土坯房裂缝严重，仍有人居住"),
        **fields,
    )
    return services.log_complaint(actor=clerk, complaint=complaint)


def advance(complaint: Complaint, until: str, *, clerk, handler, satisfaction: str = "satisfied") -> Complaint:
    """Walk a complaint along the ordinary path (accept, assign, take up, reply, close) up to `until`."""
    path = [C.RECEIVED, C.ACCEPTED, C.ASSIGNED, C.HANDLING, C.REPLIED, C.CLOSED]
    for to in path[path.index(complaint.status) + 1 : path.index(until) + 1]:
        if to == C.ACCEPTED:
            complaint = services.move_complaint(actor=clerk, complaint=complaint, to=to)
        elif to == C.ASSIGNED:
            complaint = services.move_complaint(actor=clerk, complaint=complaint, to=to, handler=handler)
        elif to == C.HANDLING:
            complaint = services.move_complaint(actor=handler, complaint=complaint, to=to)
        elif to == C.REPLIED:
            complaint = services.move_complaint(
                actor=handler, complaint=complaint, to=to, replied_on=today(),
                reply_method=Complaint.ReplyMethod.PHONE, reply="已安排鉴定并纳入改造计划",
            )  # fmt: skip
        else:
            complaint = services.move_complaint(actor=clerk, complaint=complaint, to=to, satisfaction=satisfaction)
    return Complaint.objects.get(pk=complaint.pk)


def snapshot(complaint: Complaint) -> dict:
    stored = Complaint.objects.get(pk=complaint.pk)
    return {
        "status": stored.status,
        "handler": stored.handler_id,
        "decision_note": stored.decision_note,
        "replied_on": stored.replied_on,
        "reply_method": stored.reply_method,
        "reply": stored.reply,
        "satisfaction": stored.satisfaction,
        "closed_at": stored.closed_at,
        "transitions": ComplaintTransition.objects.filter(complaint=stored).count(),
        "history": stored.history.count(),
        "leads": LeadTransfer.objects.count(),
        "problems": Problem.objects.count(),
    }


def messages_of(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    return [str(error)]


@contextmanager
def refused(complaint: Complaint, exception: type[Exception], message: str, field: str | None = None):
    """The action raises `exception` with `message` (on `field`), and nothing about the complaint changed."""
    before = snapshot(complaint)
    with pytest.raises(exception) as info:
        yield info
    assert message in messages_of(info.value)
    if field is not None:
        assert message in info.value.message_dict[field]
    assert snapshot(complaint) == before


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # the rate limit counts in the cache
    yield
    cache.clear()


@pytest.fixture
def clerk(personas):
    return personas[Role.COMPLAINT_CLERK]


@pytest.fixture
def liaison(personas):
    return personas[Role.DEPARTMENT_LIAISON]


@pytest.fixture
def bureau_unit(db):
    return Unit.objects.get(kind=Unit.Kind.BUREAU)


@pytest.fixture
def civil_affairs(db):
    return Unit.objects.get(name="漳平市民政局")


@pytest.fixture
def natural_resources(db):
    return Unit.objects.get(name="漳平市自然资源局")


@pytest.fixture
def handling(clerk, staff, home_household) -> Complaint:
    """A complaint about the 新桥镇 household, assigned to the township staff and being handled."""
    complaint, _code = log(clerk, household=home_household)
    return advance(complaint, C.HANDLING, clerk=clerk, handler=staff)


# 1. Working days ---------------------------------------------------------------------------------------------

# Listed by hand from chinese_calendar.is_workday for 2026 (checked below, day by day).
# National Day: 1–7 October off, Saturday 10 October worked; 11, 17, 18, 24, 25 October are weekends.
AFTER_30_SEPTEMBER = [
    D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10), D(2026, 10, 12), D(2026, 10, 13), D(2026, 10, 14),
    D(2026, 10, 15), D(2026, 10, 16), D(2026, 10, 19), D(2026, 10, 20), D(2026, 10, 21), D(2026, 10, 22),
    D(2026, 10, 23), D(2026, 10, 26), D(2026, 10, 27),
]  # fmt: skip
# Mid-Autumn: 25–27 September off.
AFTER_24_SEPTEMBER = [
    D(2026, 9, 28), D(2026, 9, 29), D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10),
    D(2026, 10, 12), D(2026, 10, 13), D(2026, 10, 14), D(2026, 10, 15), D(2026, 10, 16), D(2026, 10, 19),
    D(2026, 10, 20), D(2026, 10, 21), D(2026, 10, 22),
]  # fmt: skip
# Spring Festival: Saturday 14 February worked, 15–23 February off, Saturday 28 February worked.
AFTER_13_FEBRUARY = [
    D(2026, 2, 14), D(2026, 2, 24), D(2026, 2, 25), D(2026, 2, 26), D(2026, 2, 27), D(2026, 2, 28),
    D(2026, 3, 2), D(2026, 3, 3), D(2026, 3, 4), D(2026, 3, 5), D(2026, 3, 6), D(2026, 3, 9),
    D(2026, 3, 10), D(2026, 3, 11), D(2026, 3, 12),
]  # fmt: skip


@pytest.mark.parametrize(
    ("start", "working"),
    [(D(2026, 9, 30), AFTER_30_SEPTEMBER), (D(2026, 9, 24), AFTER_24_SEPTEMBER), (D(2026, 2, 13), AFTER_13_FEBRUARY)],
)
def test_hand_listed_working_days_agree_with_the_calendar(start, working):
    """The lists above are the working days after `start`, none skipped and none extra."""
    day = start
    between = []
    while day < working[-1]:
        day += datetime.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            between.append(day)
    assert between == working


def test_the_calendar_knows_the_2026_holidays_and_make_up_days():
    off = [D(2026, 10, d) for d in range(1, 8)] + [D(2026, 9, d) for d in (25, 26, 27)]
    off += [D(2026, 2, d) for d in range(15, 24)]
    assert not any(chinese_calendar.is_workday(day) for day in off)
    assert all(chinese_calendar.is_workday(day) for day in (D(2026, 10, 10), D(2026, 2, 14), D(2026, 2, 28)))


@pytest.mark.parametrize(
    ("received_at", "acceptance_due", "handling_due"),
    [
        (at(2026, 9, 30, 16), AFTER_30_SEPTEMBER[2], AFTER_30_SEPTEMBER[14]),  # 2026-10-10, 2026-10-27
        (at(2026, 9, 24, 9), AFTER_24_SEPTEMBER[2], AFTER_24_SEPTEMBER[14]),  # 2026-09-30, 2026-10-22
        (at(2026, 2, 13, 11), AFTER_13_FEBRUARY[2], AFTER_13_FEBRUARY[14]),  # 2026-02-25, 2026-03-12
        (at(2026, 2, 27, 11), D(2026, 3, 3), D(2026, 3, 19)),  # Saturday 28 February counts as day 1
    ],
)
def test_deadlines_count_working_days_from_the_day_of_receipt(clerk, received_at, acceptance_due, handling_due):
    complaint, _code = log(clerk, received_at=received_at)
    complaint.refresh_from_db()
    assert (complaint.acceptance_due, complaint.handling_due) == (acceptance_due, handling_due)
    assert complaint.deadline_estimated is False


def test_national_day_example_in_full(clerk):
    complaint, _code = log(clerk, received_at=at(2026, 9, 30, 16))
    complaint.refresh_from_db()
    assert complaint.acceptance_due == D(2026, 10, 10)  # a Saturday, worked in 2026
    assert complaint.handling_due == D(2026, 10, 27)


def test_the_day_of_receipt_is_the_local_date_not_the_utc_date(clerk):
    # 2026-09-29 17:00 UTC is 2026-09-30 01:00 in Zhangping: counting starts after 30 September.
    received = datetime.datetime(2026, 9, 29, 17, 0, tzinfo=datetime.UTC)
    complaint, _code = log(clerk, received_at=received)
    complaint.refresh_from_db()
    assert (complaint.acceptance_due, complaint.handling_due) == (D(2026, 10, 10), D(2026, 10, 27))
    assert complaint.ticket.startswith("TS-2026-")


def test_a_future_receipt_is_refused(clerk):
    with pytest.raises(ValidationError) as info:
        log(clerk, received_at=timezone.now() + datetime.timedelta(minutes=5))
    assert info.value.message_dict["received_at"] == [FUTURE_RECEIPT]
    assert not Complaint.objects.exists() and not ComplaintTransition.objects.exists()


def test_the_configured_deadline_of_the_category_is_honoured(clerk):
    ComplaintDeadline.objects.filter(category=Cat.SUBSIDY).update(acceptance_days=5, handling_days=10)
    subsidy, _code = log(clerk, received_at=at(2026, 9, 30, 16), category=Cat.SUBSIDY)
    other, _code = log(clerk, received_at=at(2026, 9, 30, 16), category=Cat.CONSTRUCTION_QUALITY)
    subsidy.refresh_from_db()
    other.refresh_from_db()
    assert (subsidy.acceptance_due, subsidy.handling_due) == (AFTER_30_SEPTEMBER[4], AFTER_30_SEPTEMBER[9])
    assert (subsidy.acceptance_due, subsidy.handling_due) == (D(2026, 10, 13), D(2026, 10, 20))
    assert (other.acceptance_due, other.handling_due) == (D(2026, 10, 10), D(2026, 10, 27))


def test_without_a_configured_deadline_the_defaults_3_and_15_apply(clerk):
    ComplaintDeadline.objects.filter(category=Cat.OTHER).delete()
    complaint, _code = log(clerk, received_at=at(2026, 9, 30, 16), category=Cat.OTHER)
    complaint.refresh_from_db()
    assert (complaint.acceptance_due, complaint.handling_due) == (D(2026, 10, 10), D(2026, 10, 27))


def test_a_deadline_in_2027_is_estimated_and_the_page_warns(client, clerk):
    assert last_known_year() == 2026
    ComplaintDeadline.objects.filter(category=Cat.OTHER).update(handling_days=60)
    received = at(2026, 11, 20, 9)
    complaint, _code = log(clerk, received_at=received, category=Cat.OTHER)
    complaint.refresh_from_db()
    expected = add_working_days(D(2026, 11, 20), 60)
    assert complaint.handling_due == expected.day and complaint.handling_due.year == 2027
    assert complaint.acceptance_due == D(2026, 11, 25)  # still inside the known calendar
    assert complaint.deadline_estimated is True
    exact, _code = log(clerk, received_at=received, category=Cat.SUBSIDY)

    client.force_login(clerk)
    warning = (
        "为估算值：节假日安排只录入到2026年，之后按周一至周五计算。管理员录入下一年的节假日安排后，期限将自动重算。"
    )
    assert warning in client.get(complaint.get_absolute_url()).content.decode()
    assert warning not in client.get(exact.get_absolute_url()).content.decode()


# 2. Illegal transitions and role rules ------------------------------------------------------------------------

STATUSES = list(C.values)
ILLEGAL = [(frm, to) for frm in STATUSES for to in STATUSES if (frm, to) not in COMPLAINT_MOVES]


def test_the_transition_table_has_the_expected_legal_moves():
    assert len(COMPLAINT_MOVES) == 13 and len(ILLEGAL) == 81 - 13


@pytest.mark.parametrize(("frm", "to"), ILLEGAL)
def test_every_illegal_move_is_refused(admin, clerk, xinqiao, frm, to):
    """The bureau administrator may manage and handle, and is the handler: only the table refuses."""
    complaint, _code = log(clerk, township=xinqiao)
    Complaint.objects.filter(pk=complaint.pk).update(status=frm, handler=admin)
    with refused(complaint, ValidationError, cannot_become(frm, to)):
        services.move_complaint(
            actor=admin, complaint=complaint, to=to, note="理由", handler=admin, replied_on=today(),
            reply_method="phone", reply="答复", satisfaction="satisfied",
            to_unit=Unit.objects.get(name="漳平市民政局"),
        )  # fmt: skip


def test_an_unknown_target_status_is_refused(admin, clerk):
    complaint, _code = log(clerk)
    with refused(
        complaint, ValidationError, "该举报当前为“已登记”，不能变为“deleted”（可能已被他人办理，请刷新页面）。"
    ):
        services.move_complaint(actor=admin, complaint=complaint, to="deleted")


def test_the_page_refuses_an_illegal_move_in_chinese(client, clerk):
    complaint, _code = log(clerk)
    before = snapshot(complaint)
    client.force_login(clerk)
    response = client.post(
        reverse("rectification:complaint-move", args=[complaint.pk]),
        {"to": C.CLOSED, "closed-satisfaction": "satisfied"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == complaint.get_absolute_url()
    assert cannot_become(C.RECEIVED, C.CLOSED) in response.content.decode()
    assert snapshot(complaint) == before


def test_township_staff_cannot_accept_assign_or_close(clerk, staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    with refused(complaint, PermissionDenied, NO_PERMISSION):
        services.move_complaint(actor=staff, complaint=complaint, to=C.ACCEPTED)
    with refused(complaint, PermissionDenied, NO_PERMISSION):
        services.move_complaint(actor=staff, complaint=complaint, to=C.NOT_ACCEPTED, note="不属于受理范围")
    complaint = advance(complaint, C.ACCEPTED, clerk=clerk, handler=staff)
    with refused(complaint, PermissionDenied, NO_PERMISSION):
        services.move_complaint(actor=staff, complaint=complaint, to=C.ASSIGNED, handler=staff)
    complaint = advance(complaint, C.REPLIED, clerk=clerk, handler=staff)
    with refused(complaint, PermissionDenied, NO_PERMISSION):
        services.move_complaint(actor=staff, complaint=complaint, to=C.CLOSED, satisfaction="satisfied")
    complaint = advance(complaint, C.CLOSED, clerk=clerk, handler=staff)
    with refused(complaint, PermissionDenied, NO_PERMISSION):
        services.move_complaint(actor=staff, complaint=complaint, to=C.HANDLING, note="举报人不满意")


def test_the_page_gives_township_staff_a_403_for_accepting(client, clerk, staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    before = snapshot(complaint)
    client.force_login(staff)
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert 'name="to" value="accepted"' not in page
    response = client.post(reverse("rectification:complaint-move", args=[complaint.pk]), {"to": C.ACCEPTED})
    assert response.status_code == 403
    assert snapshot(complaint) == before


def test_the_clerk_cannot_take_up_or_reply(clerk, staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.ASSIGNED, clerk=clerk, handler=staff)
    with refused(complaint, PermissionDenied, NO_PERMISSION):
        services.move_complaint(actor=clerk, complaint=complaint, to=C.HANDLING)
    # Not even as the recorded handler: the clerk has no permission to handle.
    Complaint.objects.filter(pk=complaint.pk).update(handler=clerk)
    with refused(complaint, PermissionDenied, NO_PERMISSION):
        services.move_complaint(actor=clerk, complaint=complaint, to=C.HANDLING)
    Complaint.objects.filter(pk=complaint.pk).update(handler=staff)
    complaint = services.move_complaint(actor=staff, complaint=complaint, to=C.HANDLING)
    with refused(complaint, PermissionDenied, NO_PERMISSION):
        services.move_complaint(
            actor=clerk, complaint=complaint, to=C.REPLIED, replied_on=today(), reply_method="phone", reply="已答复"
        )


def test_only_the_assigned_handler_takes_up_and_replies(clerk, staff, official, xinqiao):
    colleague = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.ASSIGNED, clerk=clerk, handler=staff)
    for other in (colleague, official):
        with refused(complaint, PermissionDenied, ONLY_HANDLER):
            services.move_complaint(actor=other, complaint=complaint, to=C.HANDLING)
    complaint = services.move_complaint(actor=staff, complaint=complaint, to=C.HANDLING)
    for other in (colleague, official):
        with refused(complaint, PermissionDenied, ONLY_HANDLER):
            services.move_complaint(
                actor=other, complaint=complaint, to=C.REPLIED, replied_on=today(), reply_method="phone", reply="答"
            )


@pytest.mark.parametrize("status", [C.RECEIVED, C.ACCEPTED, C.ASSIGNED])
def test_no_reply_before_the_complaint_is_being_handled(clerk, staff, xinqiao, status):
    complaint, _code = log(clerk, township=xinqiao)
    if status != C.RECEIVED:
        complaint = advance(complaint, status, clerk=clerk, handler=staff)
    Complaint.objects.filter(pk=complaint.pk).update(handler=staff)
    with refused(complaint, ValidationError, cannot_become(status, C.REPLIED)):
        services.move_complaint(
            actor=staff, complaint=complaint, to=C.REPLIED, replied_on=today(), reply_method="phone", reply="已答复"
        )


# 3. Bad input -----------------------------------------------------------------------------------------------


def intake_data(xinqiao, **changes) -> dict:
    data = {
        "channel": "hotline",
        "received_at": "2026-11-20T09:30",
        "reporter_name": REPORTER,
        "reporter_phone": PHONE,
        "township": xinqiao.pk,
        "category": Cat.SUBSIDY,
        "content": "补助资金被村干部截留",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("content", ["", "   \n "])
def test_a_complaint_without_content_is_refused(clerk, content):
    with pytest.raises(ValidationError) as info:
        log(clerk, content=content)
    assert info.value.message_dict["content"] == [CONTENT_NEEDED]
    assert not Complaint.objects.exists() and not ComplaintTransition.objects.exists()


def test_a_complaint_without_a_channel_is_refused_by_the_model(clerk):
    with pytest.raises(ValidationError) as info:
        log(clerk, channel="")
    assert "channel" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        log(clerk, channel="fax")
    assert "channel" in info.value.message_dict
    assert not Complaint.objects.exists() and not ComplaintTransition.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("channel", None), ("content", None), ("content", "")])
def test_the_intake_page_requires_channel_and_content(client, clerk, xinqiao, field, value):
    client.force_login(clerk)
    response = client.post(reverse("rectification:complaint-new"), intake_data(xinqiao, **{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [REQUIRED]
    assert REQUIRED in response.content.decode()
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(("name", "phone"), [("", ""), ("  ", "")])
def test_a_named_complaint_needs_a_name_or_a_phone(clerk, name, phone):
    with pytest.raises(ValidationError) as info:
        log(clerk, reporter_name=name, reporter_phone=phone)
    assert info.value.message_dict["reporter_name"] == [REPORTER_NEEDED]
    assert not Complaint.objects.exists()


def test_the_intake_page_refuses_a_named_complaint_without_name_and_phone(client, clerk, xinqiao):
    client.force_login(clerk)
    response = client.post(
        reverse("rectification:complaint-new"), intake_data(xinqiao, reporter_name="", reporter_phone="")
    )
    assert response.status_code == 200
    assert REPORTER_NEEDED in response.content.decode()
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(("name", "phone"), [(REPORTER, ""), ("", PHONE)])
def test_a_name_or_a_phone_alone_is_enough(clerk, name, phone):
    complaint, _code = log(clerk, reporter_name=name, reporter_phone=phone)
    complaint.refresh_from_db()
    assert (complaint.reporter_name, complaint.reporter_phone) == (name, phone)


def test_an_anonymous_complaint_stores_no_reporter_even_when_given(clerk):
    complaint, _code = log(clerk, is_anonymous=True, reporter_name=REPORTER, reporter_phone=PHONE)
    stored = Complaint.objects.get(pk=complaint.pk)
    assert (stored.is_anonymous, stored.reporter_name, stored.reporter_phone) == (True, "", "")


def test_the_intake_page_logs_an_anonymous_complaint(client, clerk, xinqiao):
    client.force_login(clerk)
    data = intake_data(xinqiao, is_anonymous="on", reporter_name="", reporter_phone="")
    response = client.post(reverse("rectification:complaint-new"), data)
    assert response.status_code == 302
    stored = Complaint.objects.get()
    assert (stored.is_anonymous, stored.reporter_name, stored.reporter_phone) == (True, "", "")
    page = client.get(stored.get_absolute_url()).content.decode()
    assert "<dd>匿名</dd>" in page


def test_the_intake_page_stores_no_reporter_for_an_anonymous_complaint(client, clerk, xinqiao):
    client.force_login(clerk)
    response = client.post(reverse("rectification:complaint-new"), intake_data(xinqiao, is_anonymous="on"))
    assert response.status_code == 302
    stored = Complaint.objects.get()
    assert (stored.is_anonymous, stored.reporter_name, stored.reporter_phone) == (True, "", "")
    page = client.get(stored.get_absolute_url()).content.decode()
    assert "匿名" in page and REPORTER not in page and PHONE not in page


def test_the_database_refuses_an_anonymous_complaint_with_a_reporter(clerk):
    complaint, _code = log(clerk, is_anonymous=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(reporter_name=REPORTER)


def test_a_handler_of_another_township_is_refused(clerk, other_staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.ACCEPTED, clerk=clerk, handler=None)
    with refused(complaint, ValidationError, OTHER_TOWNSHIP_HANDLER, field="handler"):
        services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=other_staff)


def test_township_staff_cannot_be_assigned_a_complaint_without_township(clerk, staff):
    complaint, _code = log(clerk)
    complaint = advance(complaint, C.ACCEPTED, clerk=clerk, handler=None)
    assert complaint.township_id is None
    with refused(complaint, ValidationError, TOWNSHIP_FIRST, field="handler"):
        services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)


def test_a_handler_must_be_active_and_allowed_to_handle(clerk, helper, staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.ACCEPTED, clerk=clerk, handler=None)
    for handler in (None, clerk, helper):
        with refused(complaint, ValidationError, HANDLER_NEEDED, field="handler"):
            services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=handler)
    staff.is_active = False
    staff.save()
    with refused(complaint, ValidationError, HANDLER_NEEDED, field="handler"):
        services.move_complaint(actor=clerk, complaint=complaint, to=C.ASSIGNED, handler=staff)


@pytest.mark.parametrize("where", ["xinqiao", "shuangyang", None])
def test_a_bureau_official_may_handle_anywhere(request, clerk, official, where):
    township = request.getfixturevalue(where) if where else None
    complaint, _code = log(clerk, township=township)
    complaint = advance(complaint, C.REPLIED, clerk=clerk, handler=official)
    assert (complaint.status, complaint.handler_id) == (C.REPLIED, official.pk)


def test_the_assign_form_offers_only_allowed_handlers(clerk, staff, other_staff, official, admin, helper, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.ACCEPTED, clerk=clerk, handler=None)
    assert set(selectors.complaint_handlers(complaint)) == {staff, official, admin}
    nowhere, _code = log(clerk)
    assert set(selectors.complaint_handlers(nowhere)) == {official, admin}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"replied_on": None}, "replied_on", REPLY_DATE_NEEDED),
        ({"replied_on": "tomorrow"}, "replied_on", REPLY_DATE_RANGE),
        ({"replied_on": "before receipt"}, "replied_on", REPLY_DATE_RANGE),
        ({"reply_method": ""}, "reply_method", REPLY_METHOD_NEEDED),
        ({"reply_method": "fax"}, "reply_method", REPLY_METHOD_NEEDED),
        ({"reply": ""}, "reply", REPLY_NEEDED),
        ({"reply": "  \n"}, "reply", REPLY_NEEDED),
    ],
)
def test_a_reply_needs_a_valid_date_method_and_content(clerk, staff, home_household, changes, field, message):
    complaint, _code = log(clerk, household=home_household, received_at=at(2026, 9, 30, 16))
    complaint = advance(complaint, C.HANDLING, clerk=clerk, handler=staff)
    reply = {"replied_on": today(), "reply_method": "phone", "reply": "已答复"} | changes
    if reply["replied_on"] == "tomorrow":
        reply["replied_on"] = today() + datetime.timedelta(days=1)
    if reply["replied_on"] == "before receipt":
        reply["replied_on"] = D(2026, 9, 29)
    with refused(complaint, ValidationError, message, field=field):
        services.move_complaint(actor=staff, complaint=complaint, to=C.REPLIED, **reply)


@pytest.mark.parametrize("replied_on", [D(2026, 9, 30), "today"])
def test_a_reply_may_be_dated_from_the_day_of_receipt_to_today(clerk, staff, home_household, replied_on):
    complaint, _code = log(clerk, household=home_household, received_at=at(2026, 9, 30, 16))
    complaint = advance(complaint, C.HANDLING, clerk=clerk, handler=staff)
    replied_on = today() if replied_on == "today" else replied_on
    complaint = services.move_complaint(
        actor=staff, complaint=complaint, to=C.REPLIED, replied_on=replied_on, reply_method="letter", reply=" 已答复 "
    )
    complaint.refresh_from_db()
    assert (complaint.status, complaint.replied_on, complaint.reply_method, complaint.reply) == (
        C.REPLIED, replied_on, "letter", "已答复",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("until", "to"),
    [
        (None, C.NOT_ACCEPTED),
        (C.ACCEPTED, C.TRANSFERRED),
        (C.ASSIGNED, C.TRANSFERRED),
        (C.HANDLING, C.ESCALATED),
        (C.ACCEPTED, C.ESCALATED),
        (C.CLOSED, C.HANDLING),
    ],
)
@pytest.mark.parametrize("note", ["", "   "])
def test_not_accepting_transferring_escalating_and_reopening_need_a_reason(
    clerk, staff, xinqiao, poverty_office, until, to, note
):
    complaint, _code = log(clerk, township=xinqiao)
    if until:
        complaint = advance(complaint, until, clerk=clerk, handler=staff)
    with refused(complaint, ValidationError, GIVE_REASON, field="note"):
        services.move_complaint(actor=clerk, complaint=complaint, to=to, note=note, to_unit=poverty_office)


def test_not_accepting_records_the_reason(clerk):
    complaint, _code = log(clerk)
    complaint = services.move_complaint(actor=clerk, complaint=complaint, to=C.NOT_ACCEPTED, note=" 不属于本局职责 ")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.decision_note) == (C.NOT_ACCEPTED, "不属于本局职责")
    assert complaint.transitions.last().note == "不属于本局职责"
    assert not LeadTransfer.objects.exists()


def test_a_transfer_needs_a_unit(clerk, staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.ACCEPTED, clerk=clerk, handler=staff)
    with refused(complaint, ValidationError, UNIT_NEEDED, field="to_unit"):
        services.move_complaint(actor=clerk, complaint=complaint, to=C.TRANSFERRED, note="属扶贫办职责")


def test_the_transfer_page_requires_a_unit(client, clerk, staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.ACCEPTED, clerk=clerk, handler=staff)
    before = snapshot(complaint)
    client.force_login(clerk)
    response = client.post(
        reverse("rectification:complaint-move", args=[complaint.pk]),
        {"to": C.TRANSFERRED, "transferred-note": "属扶贫办职责"},
    )
    assert response.status_code == 400
    assert REQUIRED in response.content.decode()
    assert snapshot(complaint) == before


@pytest.mark.parametrize("satisfaction", ["very", "SATISFIED", "满意"])
def test_satisfaction_must_be_a_valid_choice(clerk, staff, xinqiao, satisfaction):
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.REPLIED, clerk=clerk, handler=staff)
    with refused(complaint, ValidationError, SATISFACTION_INVALID, field="satisfaction"):
        services.move_complaint(actor=clerk, complaint=complaint, to=C.CLOSED, satisfaction=satisfaction)


def test_the_close_page_refuses_an_invalid_satisfaction(client, clerk, staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.REPLIED, clerk=clerk, handler=staff)
    before = snapshot(complaint)
    client.force_login(clerk)
    response = client.post(
        reverse("rectification:complaint-move", args=[complaint.pk]), {"to": C.CLOSED, "closed-satisfaction": "very"}
    )
    assert response.status_code == 400
    assert "选择一个有效的选项" in response.content.decode()
    assert snapshot(complaint) == before


def test_closing_without_satisfaction_records_not_given(clerk, staff, xinqiao):
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.CLOSED, clerk=clerk, handler=staff, satisfaction="")
    assert complaint.satisfaction == Complaint.Satisfaction.NOT_GIVEN and complaint.closed_at is not None


# 4. Reopening ------------------------------------------------------------------------------------------------


def test_the_clerk_reopens_a_closed_complaint_which_is_then_replied_and_closed_again(clerk, staff, handling):
    complaint = advance(handling, C.CLOSED, clerk=clerk, handler=staff, satisfaction="unsatisfied")
    assert complaint.closed_at is not None and complaint.satisfaction == "unsatisfied"
    steps = complaint.transitions.count()

    complaint = services.move_complaint(actor=clerk, complaint=complaint, to=C.HANDLING, note="举报人不满意，重新核查")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.closed_at, complaint.satisfaction) == (C.HANDLING, None, "")
    assert complaint.handler_id == staff.pk
    last = complaint.transitions.last()
    assert (last.from_status, last.to_status, last.note, last.actor_id) == (
        C.CLOSED, C.HANDLING, "举报人不满意，重新核查", clerk.pk,
    )  # fmt: skip

    complaint = services.move_complaint(
        actor=staff, complaint=complaint, to=C.REPLIED, replied_on=today(), reply_method="visit", reply="已上门复核"
    )
    complaint = services.move_complaint(actor=clerk, complaint=complaint, to=C.CLOSED, satisfaction="satisfied")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.satisfaction, complaint.reply) == (C.CLOSED, "satisfied", "已上门复核")
    assert complaint.closed_at is not None
    assert complaint.transitions.count() == steps + 3


def test_the_reopen_form_asks_for_a_reason(client, clerk, staff, handling):
    complaint = advance(handling, C.CLOSED, clerk=clerk, handler=staff)
    before = snapshot(complaint)
    client.force_login(clerk)
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert "重新办理" in page
    url = reverse("rectification:complaint-move", args=[complaint.pk])
    response = client.post(url, {"to": C.HANDLING, "handling-note": ""})
    assert response.status_code == 400 and REQUIRED in response.content.decode()
    assert snapshot(complaint) == before
    response = client.post(url, {"to": C.HANDLING, "handling-note": "重新核查"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.closed_at, complaint.satisfaction) == (C.HANDLING, None, "")


# 5. Repeat complaints ------------------------------------------------------------------------------------------


def test_a_second_complaint_on_the_same_household_within_a_year_is_a_repeat(client, clerk, xinqiao, home_household):
    neighbour = HouseholdFactory(village=home_household.village)
    first, _code = log(clerk, household=home_household, received_at=at(2026, 3, 2))
    second, _code = log(clerk, household=home_household, received_at=at(2026, 11, 20), category=Cat.SUBSIDY)
    elsewhere, _code = log(clerk, household=neighbour, received_at=at(2026, 11, 21))
    first.refresh_from_db()
    second.refresh_from_db()
    elsewhere.refresh_from_db()
    assert first.repeat_of_id is None
    assert second.repeat_of_id == first.pk
    assert elsewhere.repeat_of_id is None

    client.force_login(clerk)
    rows = {
        ticket: row
        for row in client.get(reverse("rectification:complaints")).content.decode().split("<li>")
        for ticket in (first.ticket, second.ticket, elsewhere.ticket)
        if f"<strong>{ticket}</strong>" in row
    }
    assert len(rows) == 3
    assert REPEAT_FLAG in rows[second.ticket]
    assert REPEAT_FLAG not in rows[first.ticket] and REPEAT_FLAG not in rows[elsewhere.ticket]

    page = client.get(second.get_absolute_url()).content.decode()
    assert REPEAT_FLAG in page and f'href="{first.get_absolute_url()}">{first.ticket}</a>' in page
    first_page = client.get(first.get_absolute_url()).content.decode()
    assert REPEAT_FLAG not in first_page and second.ticket in first_page  # listed as a later complaint
    assert REPEAT_FLAG not in client.get(elsewhere.get_absolute_url()).content.decode()


def test_a_complaint_more_than_a_year_later_is_not_a_repeat(clerk, home_household):
    log(clerk, household=home_household, received_at=at(2025, 11, 1))
    later, _code = log(clerk, household=home_household, received_at=at(2026, 11, 20))
    later.refresh_from_db()
    assert later.repeat_of_id is None


# 6. A problem opened from a complaint -----------------------------------------------------------------------------


def test_only_the_assigned_handler_opens_a_problem_and_only_while_handling(clerk, staff, official, xinqiao):
    colleague = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    complaint, _code = log(clerk, township=xinqiao)
    complaint = advance(complaint, C.ASSIGNED, clerk=clerk, handler=staff)
    with refused(complaint, PermissionDenied, ONLY_HANDLER):  # assigned, not yet taken up
        services.open_problem_for_complaint(actor=staff, complaint=complaint, description="裂缝", deadline=today())
    complaint = services.move_complaint(actor=staff, complaint=complaint, to=C.HANDLING)
    for other in (colleague, official, clerk):
        with refused(complaint, PermissionDenied, ONLY_HANDLER):
            services.open_problem_for_complaint(actor=other, complaint=complaint, description="裂缝", deadline=today())
    complaint = advance(complaint, C.REPLIED, clerk=clerk, handler=staff)
    with refused(complaint, PermissionDenied, ONLY_HANDLER):  # replied: too late
        services.open_problem_for_complaint(actor=staff, complaint=complaint, description="裂缝", deadline=today())


def test_the_problem_is_linked_to_the_complaint_and_on_the_township_list(client, staff, handling, home_household):
    client.force_login(staff)
    deadline = today() + datetime.timedelta(days=30)
    response = client.post(
        reverse("rectification:complaint-problem", args=[handling.pk]),
        {"problem-description": "土坯房承重墙开裂，需立即排查", "problem-deadline": f"{deadline:%Y-%m-%d}"},
    )
    assert response.status_code == 302
    problem = Problem.objects.get()
    assert (problem.source, problem.complaint_id, problem.township_id, problem.household_id) == (
        Problem.Source.COMPLAINT, handling.pk, home_household.village.township_id, home_household.pk,
    )  # fmt: skip
    assert (problem.deadline, problem.description, problem.created_by_id) == (
        deadline, "土坯房承重墙开裂，需立即排查", staff.pk,
    )  # fmt: skip
    page = client.get(handling.get_absolute_url()).content.decode()
    assert f'href="{reverse("rectification:problem", args=[problem.pk])}"' in page
    problems = client.get(reverse("rectification:problems")).content.decode()
    assert "土坯房承重墙开裂" in problems and f'href="/problems/{problem.pk}/"' in problems


def test_the_problem_page_refuses_a_colleague_who_is_not_the_handler(client, handling, xinqiao):
    colleague = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    before = snapshot(handling)
    client.force_login(colleague)
    page = client.get(handling.get_absolute_url()).content.decode()
    assert "problem-description" not in page
    response = client.post(
        reverse("rectification:complaint-problem", args=[handling.pk]),
        {"problem-description": "裂缝", "problem-deadline": f"{today():%Y-%m-%d}"},
    )
    assert response.status_code == 403
    assert snapshot(handling) == before


# 7. Reporter protection ---------------------------------------------------------------------------------------

ROLES = [
    Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL, Role.TOWNSHIP_STAFF, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK,
    Role.HELPER, "no_role", "anonymous",
]  # fmt: skip
VIEWS_COMPLAINTS = {Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL, Role.TOWNSHIP_STAFF, Role.COMPLAINT_CLERK}
SEES_REPORTER = {Role.BUREAU_ADMIN, Role.COMPLAINT_CLERK}
VIEWS_LEADS = {Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL, Role.DEPARTMENT_LIAISON, Role.COMPLAINT_CLERK}


@pytest.fixture
def reported(clerk, staff, xinqiao, home_household, poverty_office):
    """Two named complaints by 王举报 (13912345678): one being handled by the township staff, one transferred."""
    complaint, _code = log(clerk, household=home_household)
    complaint = advance(complaint, C.HANDLING, clerk=clerk, handler=staff)
    transferred, _code = log(clerk, township=xinqiao, category=Cat.SUBSIDY, content="补助资金被截留")
    services.move_complaint(actor=clerk, complaint=transferred, to=C.ACCEPTED)
    transferred = services.move_complaint(
        actor=clerk, complaint=transferred, to=C.TRANSFERRED, to_unit=poverty_office, note="属扶贫办职责"
    )
    return complaint, transferred


def workbook_text(content: bytes) -> list[str]:
    workbook = load_workbook(BytesIO(content))
    return [str(cell.value) for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row if cell.value]


def login_url(url: str) -> str:
    query = QueryDict(mutable=True)
    query["next"] = url
    return f"{reverse('admin:login')}?{query.urlencode(safe='/')}"


@pytest.mark.parametrize("role", ROLES)
def test_the_reporter_is_protected_on_every_complaint_page(client, personas, reported, role):
    complaint, transferred = reported
    if role != "anonymous":
        client.force_login(personas[role])
    pages = [
        reverse("rectification:complaints"),
        reverse("rectification:complaints") + "?status=open",
        complaint.get_absolute_url(),
        transferred.get_absolute_url(),
    ]
    for url in pages:
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and response["Location"] == login_url(url)
            continue
        if role not in VIEWS_COMPLAINTS:
            assert response.status_code == 403, url
            assert REPORTER not in response.content.decode() and PHONE not in response.content.decode()
            continue
        assert response.status_code == 200, url
        html = response.content.decode()
        # Masked for every role until the desk asks for one complaint's reporter with a reason (below).
        assert REPORTER not in html and PHONE not in html
        assert MASKED_NAME in html
        if url != pages[0] and url != pages[1]:
            assert MASKED_PHONE in html  # the list shows only the name
    if role in SEES_REPORTER:
        unmask = reverse("unmask", args=["rectification.complaint", complaint.pk])
        assert client.post(unmask, {"reason": "回访举报人核实"}).status_code == 302
        html = client.get(pages[2]).content.decode()
        assert REPORTER in html and PHONE in html and MASKED_NAME not in html
        for other in (pages[0], pages[3]):  # the list and the other complaint stay masked
            assert REPORTER not in client.get(other).content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_the_reporter_is_protected_in_the_excel_export(client, personas, reported, role):
    url = reverse("rectification:complaint-export")
    if role != "anonymous":
        client.force_login(personas[role])
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"] == login_url(url)
        return
    if role not in VIEWS_COMPLAINTS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    cells = workbook_text(response.content)
    tickets = {complaint.ticket for complaint in reported}
    assert tickets <= set(cells)
    if role in SEES_REPORTER:
        assert cells.count(REPORTER) == 2 and cells.count(PHONE) == 2
    else:
        assert not any(REPORTER in cell or PHONE in cell for cell in cells)
        assert cells.count(MASKED_NAME) == 2 and cells.count(MASKED_PHONE) == 2


@pytest.mark.parametrize("role", [Role.COMPLAINT_CLERK, Role.TOWNSHIP_STAFF])
def test_an_export_with_no_rows_is_a_workbook_with_the_header_only(client, personas, role):
    """With full reporters (the desk) the export is logged with its size, 0 here; the size was unset (a 500)."""
    from housing_safety.models import PersonalDataAccess

    client.force_login(personas[role])
    response = client.get(reverse("rectification:complaint-export") + "?status=closed")
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 and rows[0][1] == "受理编号"
    logged = list(PersonalDataAccess.objects.filter(record_type="export").values_list("record", flat=True))
    assert logged == (["导出：举报投诉（0 行）"] if role == Role.COMPLAINT_CLERK else [])


@pytest.mark.parametrize("role", ROLES)
def test_the_reporter_is_never_on_the_lead_pages(client, personas, reported, role):
    _complaint, transferred = reported
    lead = LeadTransfer.objects.get(complaint=transferred)
    if role != "anonymous":
        client.force_login(personas[role])
    url = reverse("rectification:leads")
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"] == login_url(url)
    elif role in VIEWS_LEADS:
        assert response.status_code == 200
        html = response.content.decode()
        assert transferred.ticket in html
        assert REPORTER not in html and PHONE not in html and MASKED_NAME not in html and MASKED_PHONE not in html
    else:
        assert response.status_code == 403
    for admin_url in (
        reverse("admin:rectification_leadtransfer_changelist"),
        reverse("admin:rectification_leadtransfer_change", args=[lead.pk]),
        reverse("admin:rectification_leadtransfer_history", args=[lead.pk]),
    ):
        html = client.get(admin_url).content.decode()
        assert REPORTER not in html and PHONE not in html


@pytest.mark.parametrize("role", ROLES)
def test_complaints_have_no_admin_pages(client, personas, reported, role):
    complaint, _transferred = reported
    user = personas.get(role)
    if user is not None:
        client.force_login(user)
    for url in (
        "/admin/rectification/complaint/",
        f"/admin/rectification/complaint/{complaint.pk}/change/",
        f"/admin/rectification/complaint/{complaint.pk}/history/",
        "/admin/rectification/historicalcomplaint/",
        "/admin/rectification/complainttransition/",
    ):
        response = client.get(url)
        expected = 404 if user is not None and user.is_staff else 302
        assert response.status_code == expected, url
        assert REPORTER not in response.content.decode()


def test_the_bureau_administrators_admin_has_no_complaint_page(client, admin):
    client.force_login(admin)
    assert client.get("/admin/rectification/complaint/").status_code == 404
    index = client.get("/admin/rectification/").content.decode()
    assert "/admin/rectification/complaint/" not in index
    assert "/admin/rectification/leadtransfer/" in index  # the app index itself is there


def test_the_history_table_never_holds_the_reporter(clerk, staff, reported):
    fields = {field.name for field in Complaint.history.model._meta.get_fields()}
    assert {"reporter_name", "reporter_phone", "query_code_hash"}.isdisjoint(fields)
    assert {"ticket", "status", "content", "is_anonymous"} <= fields
    rows = list(Complaint.history.model.objects.values())
    assert len(rows) >= 7  # intake plus every step of both complaints
    assert not any(REPORTER in str(value) or PHONE in str(value) for row in rows for value in row.values())


def test_staff_of_another_township_get_404_unless_the_complaint_is_assigned_to_them(
    client, clerk, staff, other_staff, xinqiao, shuangyang, reported
):
    complaint, _transferred = reported
    client.force_login(other_staff)
    assert client.get(complaint.get_absolute_url()).status_code == 404
    assert (
        client.post(reverse("rectification:complaint-move", args=[complaint.pk]), {"to": C.REPLIED}).status_code == 404
    )
    assert complaint.ticket not in client.get(reverse("rectification:complaints")).content.decode()
    assert complaint.ticket not in workbook_text(client.get(reverse("rectification:complaint-export")).content)

    # The handler moves to 双洋镇: the complaint assigned to them stays in reach, still masked.
    set_user_role(user=staff, role=Role.TOWNSHIP_STAFF, townships=[shuangyang])
    client.force_login(staff)
    html = client.get(complaint.get_absolute_url()).content.decode()
    assert complaint.ticket in html and REPORTER not in html and MASKED_NAME in html
    assert complaint.ticket in client.get(reverse("rectification:complaints")).content.decode()


# 8. The public lookup ----------------------------------------------------------------------------------------

LOOKUP = "/q/"


def main_of(response) -> str:
    html = response.content.decode()
    main = re.search(r"<main[^>]*>.*</main>", html, re.S).group(0)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken" value=""', main)


@pytest.fixture
def replied(clerk, staff, home_household):
    complaint, code = log(clerk, household=home_household, content="东坑村李家土坯房裂缝严重，仍有人居住")
    complaint = advance(complaint, C.REPLIED, clerk=clerk, handler=staff)
    return complaint, code


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_the_lookup_form_needs_no_login(client):
    assert reverse("complaint-lookup") == LOOKUP
    response = client.get(LOOKUP)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="ticket"' in html and 'name="code"' in html


def test_the_lookup_shows_status_and_reply_and_nothing_else(client, replied, staff, home_household):
    complaint, code = replied
    response = client.post(LOOKUP, {"ticket": complaint.ticket, "code": code})
    assert response.status_code == 200
    html = response.content.decode()
    assert STATUS_ZH[C.REPLIED] in html and "已安排鉴定并纳入改造计划" in html and complaint.ticket in html
    for secret in (
        REPORTER, MASKED_NAME, PHONE, MASKED_PHONE, complaint.content, "土坯房", staff.get_username(), "新桥镇",
        home_household.village.name, home_household.head_name,
    ):  # fmt: skip
        assert secret not in html, secret


def test_a_lowercase_ticket_and_spaces_still_find_the_complaint(client, replied):
    complaint, code = replied
    html = client.post(LOOKUP, {"ticket": f" {complaint.ticket.lower()} ", "code": f" {code} "}).content.decode()
    assert STATUS_ZH[C.REPLIED] in html and "已安排鉴定并纳入改造计划" in html


def test_a_wrong_code_and_an_unknown_ticket_look_the_same(client, replied):
    complaint, code = replied
    wrong_code = client.post(LOOKUP, {"ticket": complaint.ticket, "code": wrong(code)})
    unknown = client.post(LOOKUP, {"ticket": "TS-2026-999999", "code": wrong(code)})
    assert wrong_code.status_code == unknown.status_code == 200
    assert NO_MATCH in wrong_code.content.decode()
    assert STATUS_ZH[C.REPLIED] not in wrong_code.content.decode()
    assert "已安排鉴定" not in wrong_code.content.decode()
    # The only difference is the ticket each visitor typed, echoed in the form.
    assert main_of(wrong_code).replace(complaint.ticket, "T") == main_of(unknown).replace("TS-2026-999999", "T")


def test_a_wrong_code_and_an_unknown_ticket_are_byte_identical_for_the_same_input(client, replied):
    """The same ticket and code, first while the ticket exists (wrong code), then after it no longer does."""
    complaint, code = replied
    wrong_code = client.post(LOOKUP, {"ticket": complaint.ticket, "code": wrong(code)})
    Complaint.objects.filter(pk=complaint.pk).update(ticket="TS-2026-777777")
    unknown = client.post(LOOKUP, {"ticket": complaint.ticket, "code": wrong(code)})
    assert main_of(wrong_code).encode() == main_of(unknown).encode()
    assert NO_MATCH in unknown.content.decode()


def test_the_lookup_is_rate_limited_per_address_with_a_chinese_429(client, settings, replied, frozen_rate_window):
    complaint, code = replied
    settings.COMPLAINT_LOOKUP_RATE = "3/m"
    cache.clear()
    for _ in range(5):  # reading the form does not count
        assert client.get(LOOKUP, REMOTE_ADDR="10.0.0.7").status_code == 200
    data = {"ticket": complaint.ticket, "code": wrong(code)}
    statuses = [client.post(LOOKUP, data, REMOTE_ADDR="10.0.0.7").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    blocked = client.post(LOOKUP, {"ticket": complaint.ticket, "code": code}, REMOTE_ADDR="10.0.0.7")
    assert blocked.status_code == 429
    assert "script-src 'self'" in blocked["Content-Security-Policy"]  # the refusal carries the policy too
    html = blocked.content.decode()
    assert "请求过于频繁" in html and "请一分钟后再试。" in html
    assert "已安排鉴定" not in html and STATUS_ZH[C.REPLIED] not in html
    elsewhere = client.post(LOOKUP, {"ticket": complaint.ticket, "code": code}, REMOTE_ADDR="10.0.0.8")
    assert elsewhere.status_code == 200 and "已安排鉴定" in elsewhere.content.decode()


def test_one_tickets_code_cannot_be_guessed_from_many_addresses(client, settings, replied, frozen_rate_window):
    complaint, code = replied
    settings.COMPLAINT_LOOKUP_RATE, settings.COMPLAINT_TICKET_RATE = "1000/m", "4/h"
    cache.clear()
    spellings = [complaint.ticket, complaint.ticket.lower(), f" {complaint.ticket} ", complaint.ticket]
    statuses = [
        client.post(LOOKUP, {"ticket": ticket, "code": wrong(code)}, REMOTE_ADDR=f"10.0.1.{n}").status_code
        for n, ticket in enumerate(spellings)
    ]
    assert statuses == [200, 200, 200, 200]
    blocked = client.post(LOOKUP, {"ticket": complaint.ticket, "code": code}, REMOTE_ADDR="10.0.1.99")
    assert blocked.status_code == 429 and "已安排鉴定" not in blocked.content.decode()
    # Another ticket from the same address is not blocked: the limit is the ticket's, not the address's.
    assert (
        client.post(LOOKUP, {"ticket": "TS-2026-999999", "code": "123456"}, REMOTE_ADDR="10.0.1.99").status_code == 200
    )


def test_one_address_cannot_try_many_tickets(client, settings, replied, frozen_rate_window):
    """Random ticket numbers each escape the per-ticket limit: the address's limit counts lookups of every ticket."""
    complaint, code = replied
    settings.COMPLAINT_LOOKUP_RATE, settings.COMPLAINT_TICKET_RATE = "1000/m", "1000/h"
    settings.COMPLAINT_LOOKUP_ADDRESS_RATE = "5/d"
    cache.clear()
    statuses = [
        client.post(LOOKUP, {"ticket": f"TS-2026-{n:06d}", "code": "123456"}, REMOTE_ADDR="10.0.2.1").status_code
        for n in range(500, 505)
    ]
    assert statuses == [200] * 5

    blocked = client.post(LOOKUP, {"ticket": complaint.ticket, "code": code}, REMOTE_ADDR="10.0.2.1")

    assert blocked.status_code == 429
    html = blocked.content.decode()
    assert "请求过于频繁" in html and "您所在网络的查询次数过多，请稍后再试。" in html
    assert "已安排鉴定" not in html and STATUS_ZH[C.REPLIED] not in html
    elsewhere = client.post(LOOKUP, {"ticket": complaint.ticket, "code": code}, REMOTE_ADDR="10.0.2.2")
    assert elsewhere.status_code == 200 and "已安排鉴定" in elsewhere.content.decode()


@contextmanager
def no_password_hasher(monkeypatch):
    """Every Django password hasher fails the test if it is asked to hash or verify anything."""
    calls = []

    def refuse(self, *args, **kwargs):
        calls.append(type(self).__name__)
        raise AssertionError(f"{type(self).__name__} was called")

    pending = [hashers.BasePasswordHasher]
    while pending:
        hasher = pending.pop()
        pending.extend(hasher.__subclasses__())
        for method in ("encode", "verify"):
            monkeypatch.setattr(hasher, method, refuse)
    yield calls
    monkeypatch.undo()


def test_checking_a_query_code_runs_no_password_hasher(client, replied, monkeypatch):
    """The six-digit code is checked with a keyed hash (microseconds), not a password hash (0.7 s of CPU per try
    for anyone): the rate limits are what stop guessing."""
    complaint, code = replied
    with no_password_hasher(monkeypatch) as calls:
        assert services.lookup(complaint.ticket, code) == complaint
        assert services.lookup(complaint.ticket, wrong(code)) is None
        assert services.lookup("TS-2026-999999", code) is None
        assert "已安排鉴定" in client.post(LOOKUP, {"ticket": complaint.ticket, "code": code}).content.decode()
        assert NO_MATCH in client.post(LOOKUP, {"ticket": "TS-2026-999998", "code": code}).content.decode()
    assert calls == []


def test_a_code_stored_by_the_earlier_password_hash_keeps_working_and_is_stored_anew(replied, monkeypatch):
    complaint, code = replied
    old = make_password(code)  # how codes were stored before issue 23
    Complaint.objects.filter(pk=complaint.pk).update(query_code_hash=old)

    assert services.lookup(complaint.ticket, wrong(code)) is None
    assert Complaint.objects.get(pk=complaint.pk).query_code_hash == old  # a wrong code changes nothing
    assert services.lookup(complaint.ticket, code) == complaint
    stored = Complaint.objects.get(pk=complaint.pk).query_code_hash
    assert stored.startswith("hmac-sha256$") and query_code_matches(code, stored)
    with no_password_hasher(monkeypatch) as calls:  # from now on, the cheap check
        assert services.lookup(complaint.ticket, code) == complaint
    assert calls == []


def test_a_code_keeps_working_after_the_secret_key_is_rotated_into_the_fallbacks(settings, replied):
    complaint, code = replied
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-after-rotation-" + "x" * 32
    assert services.lookup(complaint.ticket, code) == complaint
    settings.SECRET_KEY_FALLBACKS = []
    assert services.lookup(complaint.ticket, code) is None


# 9. Ticket numbers and query codes -------------------------------------------------------------------------------


def test_tickets_count_up_per_year_of_receipt(clerk):
    tickets = [log(clerk, received_at=at(2026, 10, day))[0].ticket for day in (12, 13, 14)]
    assert tickets == ["TS-2026-000001", "TS-2026-000002", "TS-2026-000003"]
    earlier, _code = log(clerk, received_at=at(2025, 12, 30))
    assert earlier.ticket == "TS-2025-000001"
    assert log(clerk)[0].ticket == f"TS-{today().year}-{4 if today().year == 2026 else 1:06d}"


def test_the_query_code_is_six_digits_and_only_its_hash_is_stored(clerk):
    complaint, code = log(clerk)
    stored = Complaint.objects.get(pk=complaint.pk)
    assert re.fullmatch(r"\d{6}", code)
    assert stored.query_code_hash and stored.query_code_hash != code and code not in stored.query_code_hash
    assert stored.query_code_hash.startswith("hmac-sha256$")  # keyed with SECRET_KEY, a random salt per complaint
    assert query_code_matches(code, stored.query_code_hash)
    assert not query_code_matches(wrong(code), stored.query_code_hash)
    assert log(clerk)[0].query_code_hash.split("$")[1] != stored.query_code_hash.split("$")[1]
    assert not any(code == str(value) for value in Complaint.objects.filter(pk=complaint.pk).values().get().values())


def test_the_code_is_shown_once_after_intake_through_the_page(client, clerk, xinqiao):
    client.force_login(clerk)
    response = client.post(reverse("rectification:complaint-new"), intake_data(xinqiao), follow=True)
    complaint = Complaint.objects.get()
    assert response.redirect_chain == [(complaint.get_absolute_url(), 302)]
    html = response.content.decode()
    assert TELL_REPORTER in html
    code = re.search(r'查询码: <strong class="big">(\d{6})</strong>', html).group(1)
    assert query_code_matches(code, complaint.query_code_hash)
    assert code not in response.redirect_chain[0][0]
    assert complaint.ticket == "TS-2026-000001" and complaint.created_by_id == clerk.pk
    assert complaint.transitions.get().to_status == C.RECEIVED

    again = client.get(complaint.get_absolute_url()).content.decode()
    assert TELL_REPORTER not in again and f'<strong class="big">{code}</strong>' not in again


# 10. Leads --------------------------------------------------------------------------------------------------------


def lead(actor, **fields) -> LeadTransfer:
    return services.record_lead(
        actor=actor,
        lead=LeadTransfer(
            direction=fields.pop("direction", LeadTransfer.Direction.OUTGOING),
            subject=fields.pop("subject", "危房改造补助资金被截留"),
            sent_on=fields.pop("sent_on", days_ago(1)),
            **fields,
        ),
    )


def test_the_clerk_records_a_lead_between_any_units(clerk, bureau_unit, poverty_office, civil_affairs):
    first = lead(clerk, from_unit=bureau_unit, to_unit=poverty_office)
    second = lead(clerk, from_unit=civil_affairs, to_unit=poverty_office, direction=LeadTransfer.Direction.INCOMING)
    assert first.created_by_id == clerk.pk and LeadTransfer.objects.count() == 2
    assert second.recipient == poverty_office.name


def test_a_liaison_records_leads_of_their_own_unit_only(liaison, poverty_office, civil_affairs, natural_resources):
    lead(liaison, from_unit=poverty_office, to_unit=civil_affairs)
    lead(liaison, from_unit=civil_affairs, to_unit=poverty_office, direction=LeadTransfer.Direction.INCOMING)
    lead(liaison, from_unit=poverty_office, to_discipline=True)
    assert LeadTransfer.objects.count() == 3
    with pytest.raises(PermissionDenied) as info:
        lead(liaison, from_unit=civil_affairs, to_unit=natural_resources)
    assert str(info.value) == OWN_UNIT_ONLY
    with pytest.raises(PermissionDenied):
        lead(liaison, from_unit=civil_affairs, to_discipline=True)
    assert LeadTransfer.objects.count() == 3


def test_the_lead_page_refuses_a_liaison_recording_between_two_other_units(
    client, liaison, civil_affairs, natural_resources
):
    client.force_login(liaison)
    response = client.post(
        reverse("rectification:lead-new"),
        {
            "direction": "outgoing", "from_unit": civil_affairs.pk, "to_unit": natural_resources.pk,
            "subject": "别的单位的线索", "sent_on": f"{days_ago(1):%Y-%m-%d}",
        },
    )  # fmt: skip
    assert response.status_code == 403
    assert not LeadTransfer.objects.exists()


@pytest.mark.parametrize("both", [True, False])
def test_a_lead_goes_to_a_unit_or_to_discipline_inspection_not_both_nor_neither(
    clerk, bureau_unit, poverty_office, both
):
    fields = {"to_unit": poverty_office, "to_discipline": True} if both else {"to_unit": None, "to_discipline": False}
    with pytest.raises(ValidationError) as info:
        lead(clerk, from_unit=bureau_unit, **fields)
    assert ONE_RECIPIENT in info.value.messages
    assert not LeadTransfer.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadTransfer.objects.create(
            direction="outgoing", from_unit=bureau_unit, subject="x", sent_on=days_ago(1), created_by=clerk, **fields
        )
    assert not LeadTransfer.objects.exists()


def test_a_lead_cannot_be_sent_in_the_future(clerk, bureau_unit, poverty_office):
    with pytest.raises(ValidationError) as info:
        lead(clerk, from_unit=bureau_unit, to_unit=poverty_office, sent_on=today() + datetime.timedelta(days=1))
    assert "sent_on" in info.value.message_dict
    assert not LeadTransfer.objects.exists()


def test_a_receipt_is_confirmed_once_and_not_before_sending(clerk, liaison, bureau_unit, poverty_office):
    sent = lead(clerk, from_unit=bureau_unit, to_unit=poverty_office, sent_on=days_ago(10))
    with pytest.raises(ValidationError) as info:
        services.confirm_lead_receipt(actor=liaison, lead=sent, on=days_ago(11), by="李科长")
    assert RECEIPT_BEFORE_SENDING in info.value.messages
    sent.refresh_from_db()
    assert (sent.receipt_on, sent.receipt_by) == (None, "")

    services.confirm_lead_receipt(actor=liaison, lead=sent, on=days_ago(8), by=" 李科长 ")
    sent.refresh_from_db()
    assert (sent.receipt_on, sent.receipt_by) == (days_ago(8), "李科长")
    history = sent.history.count()
    with pytest.raises(ValidationError) as info:
        services.confirm_lead_receipt(actor=clerk, lead=sent, on=days_ago(2), by="王科员")
    assert info.value.messages == [ALREADY_RECEIPTED]
    sent.refresh_from_db()
    assert (sent.receipt_on, sent.receipt_by, sent.history.count()) == (days_ago(8), "李科长", history)


def test_leads_without_receipt_are_outgoing_unreceipted_and_older_than_the_setting(
    client, settings, clerk, bureau_unit, poverty_office, civil_affairs
):
    settings.LEAD_RECEIPT_DAYS = 3
    overdue = lead(
        clerk, from_unit=bureau_unit, to_unit=poverty_office, sent_on=days_ago(4), subject="逾期未签收的线索"
    )
    receipted = lead(clerk, from_unit=bureau_unit, to_unit=civil_affairs, sent_on=days_ago(10), subject="已签收的线索")
    services.confirm_lead_receipt(actor=clerk, lead=receipted, on=days_ago(9), by="张科长")
    incoming = lead(
        clerk, from_unit=civil_affairs, to_unit=bureau_unit, sent_on=days_ago(10), subject="移入的线索",
        direction=LeadTransfer.Direction.INCOMING,
    )  # fmt: skip
    on_the_day = lead(
        clerk, from_unit=bureau_unit, to_unit=poverty_office, sent_on=days_ago(3), subject="刚满三天的线索"
    )
    recent = lead(clerk, from_unit=bureau_unit, to_discipline=True, sent_on=days_ago(1), subject="新近移送的线索")

    flagged = set(selectors.leads_without_receipt(LeadTransfer.objects.all()))
    assert flagged == {overdue}
    later = set(selectors.leads_without_receipt(LeadTransfer.objects.all(), today=today() + datetime.timedelta(days=3)))
    assert later == {overdue, on_the_day, recent}
    assert incoming not in later and receipted not in later

    client.force_login(clerk)
    html = client.get(reverse("rectification:leads")).content.decode()
    rows = {row.split("</div>")[0]: row for row in html.split("<li>")[1:]}
    by_subject = {
        subject: next(row for row in rows.values() if subject in row)
        for subject in ("逾期未签收的线索", "已签收的线索", "移入的线索", "刚满三天的线索", "新近移送的线索")
    }
    assert NOT_RECEIPTED in by_subject["逾期未签收的线索"]
    for subject in ("已签收的线索", "移入的线索", "刚满三天的线索", "新近移送的线索"):
        assert NOT_RECEIPTED not in by_subject[subject], subject
    assert html.count(NOT_RECEIPTED) == 1
    only = client.get(reverse("rectification:leads") + "?show=unreceipted").content.decode()
    assert "逾期未签收的线索" in only and "已签收的线索" not in only and "新近移送的线索" not in only


# 11. The quarterly lead workbook --------------------------------------------------------------------------------

SUMMARY_KEYS = ("outgoing", "to_discipline", "incoming", "receipted", "unreceipted", "feedback")


def expected_counts(first: D, last: D) -> tuple[dict[str, list[int]], list[int]]:
    """Per active unit and in total, computed straight from LeadTransfer rows of the quarter."""
    leads = LeadTransfer.objects.filter(sent_on__gte=first, sent_on__lte=last)
    per_unit = {}
    for unit in Unit.objects.filter(is_active=True):
        sent = leads.filter(from_unit=unit)
        per_unit[unit.name] = [
            sent.count(),
            sent.filter(to_discipline=True).count(),
            leads.filter(to_unit=unit).count(),
            sent.exclude(receipt_on=None).count(),
            sent.filter(receipt_on=None).count(),
            sent.exclude(feedback_on=None).count(),
        ]
    total = [
        leads.count(),
        leads.filter(to_discipline=True).count(),
        leads.exclude(to_unit=None).count(),
        leads.exclude(receipt_on=None).count(),
        leads.filter(receipt_on=None).count(),
        leads.exclude(feedback_on=None).count(),
    ]
    return per_unit, total


@pytest.fixture
def quarter_leads(clerk, liaison, staff, xinqiao, bureau_unit, poverty_office, civil_affairs, natural_resources):
    """Leads of 2026 Q2, Q3 and Q4 across units, with receipts and feedback, a transfer and an escalation."""
    made = {}
    made["q3_first_day"] = lead(clerk, from_unit=civil_affairs, to_unit=poverty_office, sent_on=D(2026, 7, 1))
    made["q3_bureau"] = lead(clerk, from_unit=bureau_unit, to_unit=poverty_office, sent_on=D(2026, 7, 15))
    services.confirm_lead_receipt(actor=liaison, lead=made["q3_bureau"], on=D(2026, 7, 20), by="李科长")
    services.record_lead_feedback(actor=liaison, lead=made["q3_bureau"], on=D(2026, 8, 1), feedback="已立案核查")
    made["q3_discipline"] = lead(clerk, from_unit=bureau_unit, to_discipline=True, sent_on=D(2026, 8, 3))
    made["q3_incoming"] = lead(
        liaison, from_unit=poverty_office, to_unit=bureau_unit, sent_on=D(2026, 9, 30),
        direction=LeadTransfer.Direction.INCOMING, subject="=HYPERLINK(\"x\")",
    )  # fmt: skip
    made["q3_liaison_out"] = lead(liaison, from_unit=poverty_office, to_unit=natural_resources, sent_on=D(2026, 8, 20))
    services.confirm_lead_receipt(actor=clerk, lead=made["q3_liaison_out"], on=D(2026, 8, 21), by="赵科长")
    made["q2_last_day"] = lead(clerk, from_unit=bureau_unit, to_unit=civil_affairs, sent_on=D(2026, 6, 30))
    made["q4_first_day"] = lead(clerk, from_unit=bureau_unit, to_unit=natural_resources, sent_on=D(2026, 10, 1))
    transferred, _code = log(clerk, township=xinqiao, received_at=at(2026, 10, 9))
    services.move_complaint(actor=clerk, complaint=transferred, to=C.ACCEPTED)
    services.move_complaint(
        actor=clerk, complaint=transferred, to=C.TRANSFERRED, to_unit=civil_affairs, note="属民政局职责"
    )
    escalated, _code = log(clerk, township=xinqiao, received_at=at(2026, 10, 12), category=Cat.STAFF_CONDUCT)
    advance(escalated, C.HANDLING, clerk=clerk, handler=staff)
    services.move_complaint(actor=clerk, complaint=escalated, to=C.ESCALATED, note="反映村干部优亲厚友")
    made["q4_transfer"] = LeadTransfer.objects.get(complaint=transferred)
    made["q4_escalation"] = LeadTransfer.objects.get(complaint=escalated)
    return made


def report(client, year, quarter):
    return client.get(reverse("rectification:lead-report"), {"year": year, "quarter": quarter})


@pytest.mark.parametrize(
    ("quarter", "first", "last"), [(3, D(2026, 7, 1), D(2026, 9, 30)), (4, D(2026, 10, 1), D(2026, 12, 31))]
)
def test_the_quarterly_workbook_counts_every_unit_and_the_total(client, clerk, quarter_leads, quarter, first, last):
    client.force_login(clerk)
    response = report(client, 2026, quarter)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="leads-2026Q{quarter}.xlsx"'
    workbook = load_workbook(BytesIO(response.content))
    summary, detail = workbook.worksheets
    rows = [list(row) for row in summary.iter_rows(values_only=True)]
    assert "2026-07-01" in rows[0][0] if quarter == 3 else "2026-10-01" in rows[0][0]
    assert rows[1][0] == "单位"
    body, total_row = rows[2:-1], rows[-1]
    per_unit, total = expected_counts(first, last)
    # unit, where its figures come from (no unit filed a return here: the register's), six counts, its notes
    assert {row[0]: row[2:8] for row in body} == per_unit
    assert {row[1] for row in body} <= {"线索登记台账", "未报送（按线索登记台账）"}
    assert len(body) == Unit.objects.filter(is_active=True).count()
    assert total_row[:8] == ["合计", None, *total]
    # The scenario really exercises the numbers.
    assert total[0] == (5 if quarter == 3 else 3)
    assert per_unit["漳平市住房和城乡建设局"] == ([2, 1, 1, 1, 1, 1] if quarter == 3 else [3, 1, 0, 0, 3, 0])

    details = [list(row) for row in detail.iter_rows(values_only=True)][1:]
    in_quarter = LeadTransfer.objects.filter(sent_on__range=(first, last)).order_by("sent_on", "pk")
    assert len(details) == in_quarter.count()
    assert [row[0].date() for row in details] == [lead.sent_on for lead in in_quarter]
    assert all(first <= row[0].date() <= last for row in details)
    recipients = [row[3] for row in details]
    assert recipients == [lead.recipient for lead in in_quarter]
    if quarter == 4:
        assert recipients.count("纪检监察机关") == 1
        escalation = details[[lead.pk for lead in in_quarter].index(quarter_leads["q4_escalation"].pk)]
        assert escalation[5] == quarter_leads["q4_escalation"].complaint.ticket
    else:
        assert recipients.count("纪检监察机关") == 1
        formula = details[[lead.pk for lead in in_quarter].index(quarter_leads["q3_incoming"].pk)]
        assert formula[4] == '\'=HYPERLINK("x")'  # text from users never becomes a formula


def test_the_workbook_leaves_empty_cells_empty(client, clerk, quarter_leads):
    client.force_login(clerk)
    detail = load_workbook(BytesIO(report(client, 2026, 3).content)).worksheets[1]
    rows = [list(row) for row in detail.iter_rows(values_only=True)][1:]
    by_pk = dict(
        zip(
            LeadTransfer.objects.filter(sent_on__range=(D(2026, 7, 1), D(2026, 9, 30)))
            .order_by("sent_on", "pk")
            .values_list("pk", flat=True),
            rows,
            strict=True,
        )
    )
    without_anything = by_pk[quarter_leads["q3_discipline"].pk]
    assert without_anything[5] in (None, "")  # no complaint
    assert without_anything[7] in (None, "")  # nobody confirmed a receipt
    assert without_anything[9] in (None, "")  # no feedback


def test_a_unit_deactivated_later_still_counts_in_its_quarter(client, clerk, quarter_leads, civil_affairs):
    """民政局 sent a lead in 2026 Q3 and is deactivated (merged) afterwards: the Q3 report still covers it."""
    Unit.objects.filter(pk=civil_affairs.pk).update(is_active=False)
    client.force_login(clerk)
    workbook = load_workbook(BytesIO(report(client, 2026, 3).content))
    summary, detail = workbook.worksheets
    total_row = list(summary.iter_rows(values_only=True))[-1]
    leads_in_detail = detail.max_row - 1
    assert total_row[2] == leads_in_detail == 5  # after the unit and the figures' source


@pytest.mark.parametrize(
    "query",
    [
        {"year": "2026", "quarter": "5"},
        {"year": "2026", "quarter": "0"},
        {"year": "abc", "quarter": "3"},
        {"year": "2026"},
        {"quarter": "3"},
        {"year": "0", "quarter": "1"},
        {"year": "10000", "quarter": "1"},
    ],
)
def test_a_bad_year_or_quarter_is_a_400(client, clerk, query):
    client.force_login(clerk)
    response = client.get(reverse("rectification:lead-report"), query)
    assert response.status_code == 400
    assert "请选择年度和季度（1-4）。" in response.content.decode()


@pytest.mark.parametrize("role", [Role.TOWNSHIP_STAFF, Role.DEPARTMENT_LIAISON, Role.BUREAU_OFFICIAL, Role.HELPER])
def test_the_quarterly_workbook_is_for_the_complaint_desk_only(client, personas, role):
    client.force_login(personas[role])
    assert report(client, 2026, 3).status_code == 403


def test_the_bureau_administrator_may_download_the_quarterly_workbook(client, admin, quarter_leads):
    client.force_login(admin)
    response = report(client, 2026, 3)
    assert response.status_code == 200 and response.content[:2] == b"PK"


# 12. Overdue complaints and query counts ---------------------------------------------------------------------------


@pytest.fixture
def ages(clerk, staff, xinqiao):
    """Complaints received on 30 September 2026 (decide by 10 October, handle by 27 October) in every state,
    and one received an hour ago."""
    made = {}
    for status in (C.RECEIVED, C.ACCEPTED, C.ASSIGNED, C.HANDLING, C.REPLIED, C.CLOSED):
        complaint, _code = log(clerk, township=xinqiao, received_at=at(2026, 9, 30, 16), content=f"{status}的举报")
        if status != C.RECEIVED:
            complaint = advance(complaint, status, clerk=clerk, handler=staff)
        made[status] = complaint
    complaint, _code = log(clerk, township=xinqiao, received_at=at(2026, 9, 30, 16), content="不予受理的举报")
    made[C.NOT_ACCEPTED] = services.move_complaint(actor=clerk, complaint=complaint, to=C.NOT_ACCEPTED, note="重复")
    made["fresh"], _code = log(clerk, township=xinqiao, content="新登记的举报")
    return made


@pytest.mark.parametrize(
    ("on", "overdue"),
    [
        (D(2026, 10, 10), set()),  # the last day for the acceptance decision
        (D(2026, 10, 11), {C.RECEIVED}),
        (D(2026, 10, 27), {C.RECEIVED}),  # the last day for handling
        (D(2026, 10, 28), {C.RECEIVED, C.ACCEPTED, C.ASSIGNED, C.HANDLING}),
    ],
)
def test_overdue_complaints_by_their_deadline_and_state(ages, on, overdue):
    found = set(selectors.overdue_complaints(Complaint.objects.all(), today=on))
    assert found == {ages[status] for status in overdue}


def test_the_overdue_filter_of_the_list_page(client, clerk, ages):
    overdue = {ages[s].ticket for s in (C.RECEIVED, C.ACCEPTED, C.ASSIGNED, C.HANDLING)}
    assert set(selectors.overdue_complaints(Complaint.objects.all()).values_list("ticket", flat=True)) == overdue
    client.force_login(clerk)
    html = client.get(reverse("rectification:complaints") + "?show=overdue").content.decode()
    shown = set(re.findall(r"<strong>(TS-\d{4}-\d{6})</strong>", html))
    assert shown == overdue
    everything = client.get(reverse("rectification:complaints")).content.decode()
    assert set(re.findall(r"<strong>(TS-\d{4}-\d{6})</strong>", everything)) == {c.ticket for c in ages.values()}
    assert "4 件超期" in everything
    overdue_badge = '<span class="status status-dangerous">已逾期</span>'
    assert overdue_badge in client.get(ages[C.HANDLING].get_absolute_url()).content.decode()
    assert overdue_badge not in client.get(ages[C.REPLIED].get_absolute_url()).content.decode()
    assert overdue_badge not in client.get(ages["fresh"].get_absolute_url()).content.decode()
    exported = workbook_text(client.get(reverse("rectification:complaint-export") + "?show=overdue").content)
    assert {cell for cell in exported if cell.startswith("TS-")} == overdue


def test_page_two_of_the_list_keeps_its_filter(client, clerk, staff, xinqiao):
    """The pager keeps the whole query: status and "assigned to me" hold on page 2."""
    colleague = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    base = advance(log(clerk, township=xinqiao)[0], C.ASSIGNED, clerk=clerk, handler=staff)
    # Copies assigned to me, to a colleague, or only received, interleaved in the list's order (newest first).
    unlike = [{}, {"handler": colleague}, {"status": C.RECEIVED, "handler": None}]
    copies = []
    for number in range(150):
        copy = Complaint(**{f.attname: getattr(base, f.attname) for f in Complaint._meta.concrete_fields})
        copy.pk, copy.ticket = None, f"TS-2026-{900000 + number}"
        copy.received_at = base.received_at - datetime.timedelta(minutes=number)
        for name, value in (unlike[number % 3] if number < 90 else {}).items():
            setattr(copy, name, value)
        copies.append(copy)
    Complaint.objects.bulk_create(copies)
    mine = set(Complaint.objects.filter(status=C.ASSIGNED, handler=staff).values_list("ticket", flat=True))
    assert len(mine) > 50 and Complaint.objects.count() > len(mine) + 50

    client.force_login(staff)
    url = reverse("rectification:complaints")
    first = client.get(url + "?status=assigned&show=mine").content.decode()
    following = re.search(r'<nav class="pager">.*?<a href="([^"]*)">下一页</a>', first, re.S).group(1)
    second = client.get(url + unescape(following)).content.decode()
    shown = [re.findall(r"<strong>(TS-\d{4}-\d{6})</strong>", page) for page in (first, second)]
    assert len(shown[0]) == 50 and len(shown[1]) == len(mine) - 50
    assert set(shown[0]) | set(shown[1]) == mine


def make_complaints(n: int, *, clerk, staff, official, xinqiao, shuangyang) -> None:
    """n complaints as varied as the list shows them: subjects, handlers, repeats, replies, anonymous ones."""
    village = VillageFactory(township=xinqiao)
    households = [HouseholdFactory(village=village) for _ in range(2)]
    for number in range(n):
        kind = number % 4
        if kind == 0:
            complaint, _code = log(clerk, household=households[number % 2])
            advance(complaint, C.HANDLING, clerk=clerk, handler=staff)
        elif kind == 1:
            complaint, _code = log(clerk, township=shuangyang, is_anonymous=True)
            advance(complaint, C.REPLIED, clerk=clerk, handler=official)
        elif kind == 2:
            log(clerk, village=village, category=Cat.SUBSIDY)
        else:
            log(clerk, reporter_name="", reporter_phone="0597-7526007")


# session, user, user permissions, group permissions, profile, profile's townships, then the page's own:
# the list counts for the pager, reads one page (everything it shows joined in) and counts the overdue ones;
# the export reads every complaint in one joined query, and the desk's export (full reporters) writes one audit row.
PINNED_QUERIES = {"rectification:complaints": 9, "rectification:complaint-export": 7}
FULL_REPORTERS = {Role.COMPLAINT_CLERK, Role.BUREAU_ADMIN}


@pytest.mark.parametrize("page", list(PINNED_QUERIES))
@pytest.mark.parametrize("role", [Role.COMPLAINT_CLERK, Role.TOWNSHIP_STAFF, Role.BUREAU_ADMIN])
def test_list_and_export_queries_are_pinned_and_do_not_grow(
    client, django_assert_num_queries, personas, clerk, staff, official, xinqiao, shuangyang, page, role
):
    client.force_login(personas[role])
    url = reverse(page)
    make = {"clerk": clerk, "staff": staff, "official": official, "xinqiao": xinqiao, "shuangyang": shuangyang}
    make_complaints(3, **make)
    assert client.get(url).status_code == 200  # the first request after logging in
    expected = PINNED_QUERIES[page] + (page == "rectification:complaint-export" and role in FULL_REPORTERS)
    with django_assert_num_queries(expected):
        few = client.get(url)
    make_complaints(7, **make)
    assert Complaint.objects.count() == 10
    client.get(url)  # the assignments notified the staff: the badge counts their unread notices once, then caches
    with django_assert_num_queries(expected):
        many = client.get(url)
    assert few.status_code == many.status_code == 200
    visible = selectors.complaints_for_user(personas[role]).count()
    assert rows_shown(page, many) == visible and visible > rows_shown(page, few) >= 2


def rows_shown(page: str, response) -> int:
    if page == "rectification:complaints":
        return len(re.findall(r"<strong>TS-\d{4}-\d{6}</strong>", response.content.decode()))
    return load_workbook(BytesIO(response.content)).worksheets[0].max_row - 1
