"""The plan (五（二）): "市各专项整治参与单位每季度向牵头单位报送本专项问题线索情况，牵头单位按季度报市纪委监委". Each
participating department files its quarter's lead figures (pre-filled from the lead register, corrected with a
reason), from the quarter's last ten days until the bureau's report goes out; the report reads the filed figures
and marks the departments that did not file, with the register's figures."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from households.models import Unit
from households.tests.factories import make_user
from housing_safety.access import Role
from housing_safety.models import OutgoingEmail
from housing_safety.tests.kit import assert_login_redirect, body, count_queries, messages_of, rows_of
from rectification import lead_returns, services
from rectification.documents import lead_report_workbook
from rectification.models import LeadTransfer
from rectification.models.complaints import LeadQuarterReturn
from reporting.jobs import run_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]
D = datetime.date
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
IN_WINDOW = datetime.datetime(2026, 9, 28, 10, 0, tzinfo=SHANGHAI)  # Q3 2026: open from 21 September, due 30th


def at(moment: datetime.datetime):
    """Pages and services see `moment` as now (the filing window depends on the day)."""
    return lambda: moment


@pytest.fixture
def in_window(monkeypatch):
    monkeypatch.setattr(timezone, "now", at(IN_WINDOW))


@pytest.fixture
def civil_affairs():
    return Unit.objects.get(name="漳平市民政局")


@pytest.fixture
def liaison(personas):
    return personas[Role.DEPARTMENT_LIAISON]


@pytest.fixture
def other_liaison(civil_affairs):
    return make_user(Role.DEPARTMENT_LIAISON, username="liaison-civil", unit=civil_affairs)


@pytest.fixture
def register(personas, poverty_office, civil_affairs):
    """The lead register for Q3 2026: the poverty office sent two leads to the bureau (one with its receipt and
    feedback) and one to the discipline organs, and received one; one lead of Q2 does not count."""
    clerk = personas[Role.COMPLAINT_CLERK]
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU)
    out = LeadTransfer.Direction.OUTGOING

    def lead(sent_on, from_unit, to_unit=None, **extra):
        return services.record_lead(
            actor=clerk,
            lead=LeadTransfer(
                direction=out, from_unit=from_unit, to_unit=to_unit, to_discipline=to_unit is None,
                subject="线索（测试）", sent_on=sent_on, **extra,
            ),
        )  # fmt: skip

    lead(D(2026, 7, 3), poverty_office, bureau, receipt_on=D(2026, 7, 5), receipt_by="王", feedback_on=D(2026, 8, 1))
    lead(D(2026, 8, 10), poverty_office, bureau)
    lead(D(2026, 9, 1), poverty_office)
    lead(D(2026, 9, 2), civil_affairs, poverty_office)
    lead(D(2026, 6, 30), poverty_office, bureau)  # Q2


REGISTER = {"sent_to_units": 2, "sent_to_discipline": 1, "received": 1, "receipts_confirmed": 1, "feedback": 1}


def url(unit, year=2026, quarter=3) -> str:
    return reverse("rectification:lead-return", args=[year, quarter, unit.pk])


def post_body(**changes) -> dict:
    return {**REGISTER, "situation": "本季度排查发现线索3条（测试）", "difference_reason": "", **changes}


def snapshot():
    return rows_of(LeadQuarterReturn, LeadQuarterReturn.history.model)


# The window ------------------------------------------------------------------------------------------------------


def test_the_window_opens_ten_days_before_the_quarter_ends_and_closes_with_the_report():
    """ "每季度向牵头单位报送": the quarter's figures are filed at its end, before the bureau reports on the 1st."""
    q3 = lead_returns.window(2026, 3)
    assert (q3.opens_on, q3.due_on, q3.report_on) == (D(2026, 9, 21), D(2026, 9, 30), D(2026, 10, 1))
    assert lead_returns.window(2024, 2).due_on == D(2024, 6, 28)  # 30 June 2024 was a Sunday: the Friday before
    assert lead_returns.filing_window(D(2026, 9, 20)) is None
    assert (lead_returns.filing_window(D(2026, 9, 21)).quarter, lead_returns.filing_window(D(2026, 10, 1)).quarter) == (
        3,
        3,
    )
    assert lead_returns.filing_window(D(2026, 10, 2)) is None
    assert lead_returns.shown_quarter(D(2026, 11, 15)) == (2026, 3)  # between windows: the last quarter ended


# Who reaches a unit's return ---------------------------------------------------------------------------------


def test_anonymous_visitors_go_to_the_login_page(client, poverty_office, in_window):
    for path in (url(poverty_office), reverse("rectification:lead-returns")):
        assert_login_redirect(client.get(path), path)
    before = snapshot()
    response = client.post(url(poverty_office), post_body())
    assert_login_redirect(response, url(poverty_office))
    assert snapshot() == before


def test_township_staff_reach_no_return(client, personas, poverty_office, in_window):
    client.force_login(personas[Role.TOWNSHIP_STAFF])
    assert client.get(url(poverty_office)).status_code == 403
    assert client.get(reverse("rectification:lead-returns")).status_code == 403
    before = snapshot()
    assert client.post(url(poverty_office), post_body()).status_code == 403
    assert snapshot() == before


def test_a_liaison_of_another_unit_gets_a_404_and_changes_nothing(client, other_liaison, poverty_office, in_window):
    client.force_login(other_liaison)
    assert client.get(url(poverty_office)).status_code == 404
    before = snapshot()
    assert client.post(url(poverty_office), post_body()).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.BUREAU_OFFICIAL, Role.BUREAU_ADMIN, Role.COMPLAINT_CLERK])
def test_the_bureau_reads_any_units_return_but_files_none(client, personas, poverty_office, register, role, in_window):
    client.force_login(personas[role])
    response = client.get(url(poverty_office))
    assert response.status_code == 200
    assert "未报送" in body(response) and '<form method="post"' not in body(response)
    before = snapshot()
    assert client.post(url(poverty_office), post_body()).status_code == 403
    assert snapshot() == before


def test_a_quarter_outside_1_to_4_or_an_implausible_year_is_a_404(client, liaison, poverty_office, in_window):
    client.force_login(liaison)
    assert client.get(url(poverty_office, quarter=5)).status_code == 404
    assert client.get(url(poverty_office, quarter=0)).status_code == 404
    assert client.get(url(poverty_office, year=1999)).status_code == 404
    assert client.get(url(poverty_office, year=9999)).status_code == 404


# Filing ------------------------------------------------------------------------------------------------------


def test_the_liaison_files_the_register_figures_as_pre_filled(client, liaison, poverty_office, register, in_window):
    """The return starts as the register's figures; filed as they are, no reason is asked."""
    client.force_login(liaison)
    page = client.get(url(poverty_office))
    assert page.status_code == 200
    form = page.context["form"]
    assert {name: form[name].value() for name in REGISTER} == REGISTER
    response = client.post(url(poverty_office), post_body())
    assert response.status_code == 302
    entry = LeadQuarterReturn.objects.get()
    assert (entry.unit, entry.year, entry.quarter, entry.figures()) == (poverty_office, 2026, 3, REGISTER)
    assert (entry.filed_by, entry.filed_at, entry.register_counts) == (liaison, IN_WINDOW, REGISTER)
    assert entry.situation == "本季度排查发现线索3条（测试）" and entry.difference_reason == ""
    assert messages_of(body(client.get(response.url))) == ["线索季报已报送。住建局报送纪委监委之前可以更正。"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sent_to_units": "-1"}, "sent_to_units", "确保该值大于或等于0。"),
        ({"received": "100000"}, "received", "请填写 0 至 99999 的整数。"),
        ({"feedback": "两"}, "feedback", "输入整数。"),
        ({"received": "5"}, "difference_reason", "数据与线索登记台账不一致：请说明原因（例如尚未录入台账的线索）。"),
        (
            {"receipts_confirmed": "4", "difference_reason": "有补录"},
            "receipts_confirmed",
            "回执数多于移送线索数（3）。",
        ),
    ],
    ids=["negative", "too-large", "not-a-number", "differs-without-reason", "more-receipts-than-sent"],
)
def test_bad_figures_are_refused_in_chinese_and_nothing_changes(
    client, liaison, poverty_office, register, in_window, changes, field, message
):
    client.force_login(liaison)
    before = snapshot()
    response = client.post(url(poverty_office), post_body(**changes))
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert snapshot() == before


def test_figures_that_differ_are_filed_with_the_reason_and_corrected_until_the_report(
    client, liaison, poverty_office, register, in_window
):
    """The unit may know of leads not yet entered: it says why; it corrects its return (one row, its history)."""
    client.force_login(liaison)
    client.post(url(poverty_office), post_body(received="3", difference_reason="两条线索尚未录入台账"))
    entry = LeadQuarterReturn.objects.get()
    assert entry.received == 3 and entry.register_counts["received"] == 1
    assert entry.difference_reason == "两条线索尚未录入台账"
    assert client.post(url(poverty_office), post_body()).status_code == 302  # back to the register's: no reason kept
    entry.refresh_from_db()
    assert entry.received == 1 and entry.difference_reason == ""
    assert LeadQuarterReturn.objects.count() == 1 and entry.history.count() == 2
    page = body(client.get(reverse("rectification:lead-returns")))
    assert "漳平市扶贫开发办公室" in page and "已报送" in page


def test_before_the_window_and_after_the_report_the_return_cannot_be_filed(
    client, liaison, poverty_office, register, monkeypatch
):
    client.force_login(liaison)
    monkeypatch.setattr(timezone, "now", at(datetime.datetime(2026, 9, 20, 10, 0, tzinfo=SHANGHAI)))
    page = client.get(url(poverty_office))
    assert page.status_code == 200 and page.context["may_file"] is False
    response = client.post(url(poverty_office), post_body(), follow=True)
    assert messages_of(body(response)) == ["本季度的线索季报现在不能报送。"]
    assert not LeadQuarterReturn.objects.exists()
    # The service says when: from the window's first day.
    with pytest.raises(Exception) as refused:
        services.file_lead_return(
            actor=liaison, unit=poverty_office, year=2026, quarter=3, figures=REGISTER,
            now=datetime.datetime(2026, 9, 20, 10, 0, tzinfo=SHANGHAI),
        )  # fmt: skip
    assert "2026 年第 3 季度的线索季报自 2026-09-21 起报送。" in str(refused.value)
    # The report has gone on 1 October: closed, even on that day.
    OutgoingEmail.objects.create(key="leads:2026-Q3", recipients=[], subject="季报", body="")
    monkeypatch.setattr(timezone, "now", at(datetime.datetime(2026, 10, 1, 11, 0, tzinfo=SHANGHAI)))
    assert client.get(url(poverty_office)).context["may_file"] is False
    with pytest.raises(Exception) as refused:
        services.file_lead_return(
            actor=liaison, unit=poverty_office, year=2026, quarter=3, figures=REGISTER,
            now=datetime.datetime(2026, 10, 1, 11, 0, tzinfo=SHANGHAI),
        )  # fmt: skip
    assert "已报送纪委监委" in str(refused.value)
    assert not LeadQuarterReturn.objects.exists()


# The liaison's home and the bureau's overview ------------------------------------------------------------------


def test_the_liaisons_home_has_the_return_to_file_during_the_window(client, liaison, poverty_office, monkeypatch):
    client.force_login(liaison)
    monkeypatch.setattr(timezone, "now", at(datetime.datetime(2026, 9, 15, 10, 0, tzinfo=SHANGHAI)))
    assert url(poverty_office) not in body(client.get("/"))
    monkeypatch.setattr(timezone, "now", at(IN_WINDOW))
    home = body(client.get("/"))
    assert url(poverty_office) in home and "本季度线索移送情况（2026 年第 3 季度）待报送" in home
    client.post(url(poverty_office), post_body(**dict.fromkeys(REGISTER, "0")))
    assert url(poverty_office) not in body(client.get("/"))


def test_the_official_sees_every_department_filed_or_not(
    client, personas, liaison, poverty_office, register, in_window
):
    client.force_login(liaison)
    client.post(url(poverty_office), post_body())
    client.force_login(personas[Role.BUREAU_OFFICIAL])
    response = client.get(reverse("rectification:lead-returns"))
    rows = {row["unit"].name: row for row in response.context["rows"]}
    assert set(rows) == set(Unit.objects.filter(kind=Unit.Kind.DEPARTMENT).values_list("name", flat=True))
    assert rows["漳平市扶贫开发办公室"]["filed"] is not None and rows["漳平市民政局"]["filed"] is None
    assert rows["漳平市民政局"]["figures"]["sent_to_units"] == 1  # the register's, for a unit that did not file
    assert reverse("rectification:lead-returns") in body(client.get(reverse("rectification:leads")))


def test_a_liaison_sees_only_their_own_unit_in_the_overview(client, liaison, poverty_office, in_window):
    client.force_login(liaison)
    response = client.get(reverse("rectification:lead-returns"))
    assert [row["unit"] for row in response.context["rows"]] == [poverty_office]


OVERVIEW_QUERIES = 12


def test_the_overview_costs_the_same_queries_whatever_the_number_of_returns(
    client, personas, register, in_window, civil_affairs, poverty_office
):
    client.force_login(personas[Role.BUREAU_OFFICIAL])
    path = reverse("rectification:lead-returns")
    client.get(path)  # warm
    few = count_queries(client, path)
    for number in range(5):
        unit = Unit.objects.create(name=f"测试部门{number}", kind=Unit.Kind.DEPARTMENT)
        services.file_lead_return(
            actor=make_user(Role.DEPARTMENT_LIAISON, username=f"liaison-{number}", unit=unit), unit=unit, year=2026,
            quarter=3, figures=dict.fromkeys(REGISTER, 0), now=IN_WINDOW,
        )  # fmt: skip
    many = count_queries(client, path)
    assert few == many == OVERVIEW_QUERIES


# The bureau's report -------------------------------------------------------------------------------------------


def summary_rows(content: bytes) -> dict[str, list]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return {row[0]: list(row) for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}


def test_the_report_reads_the_filed_figures_and_marks_the_units_that_did_not_file(
    liaison, poverty_office, civil_affairs, register, django_capture_on_commit_callbacks
):
    """ "牵头单位按季度报市纪委监委": the bureau reports what the units filed; a unit that did not is reported with the
    register's figures, labelled as such."""
    services.file_lead_return(
        actor=liaison, unit=poverty_office, year=2026, quarter=3,
        figures={**REGISTER, "sent_to_units": 4}, situation="排查发现线索（测试）", difference_reason="两条尚未录入台账",
        now=IN_WINDOW,
    )  # fmt: skip
    rows = summary_rows(lead_report_workbook(year=2026, quarter=3))
    header = rows["单位"]
    poverty, civil = rows["漳平市扶贫开发办公室"], rows["漳平市民政局"]
    column = {name: header.index(name) for name in ("数据来源", "移出", "其中移送纪检监察", "移入")}
    assert poverty[column["数据来源"]] == "单位报送" and poverty[column["移出"]] == 5  # 4 to units + 1 to discipline
    assert "两条尚未录入台账" in poverty and "排查发现线索（测试）" in poverty
    assert civil[column["数据来源"]] == "未报送（按线索登记台账）" and civil[column["移出"]] == 1
    bureau = rows["漳平市住房和城乡建设局"]
    assert bureau[column["数据来源"]] == "线索登记台账" and bureau[column["移入"]] == 2
    with django_capture_on_commit_callbacks(execute=True):
        run_job("quarterly_lead_report", D(2026, 10, 1))
    email = OutgoingEmail.objects.get(key="leads:2026-Q3")
    assert "中 1 个已报送线索季报" in email.body and "漳平市民政局" in email.body
    assert mail.outbox or email.recipients == []  # the bureau's copy (if it has an address) is the workbook above
