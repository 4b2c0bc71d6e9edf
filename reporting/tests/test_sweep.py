"""The daily deadline sweep: what becomes an overdue item, for which unit, who is e-mailed once about it, what is
cleared; and the outbox that makes every e-mail a row first."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user
from housing_safety.access import Role
from housing_safety.mail import queue_email
from housing_safety.models import Notice, OutgoingEmail
from inspections.models import Campaign, Revisit
from inspections.tests.factories import AppraisalFactory
from rectification.models import Complaint, LeadTransfer, Problem, RenovationCase
from reporting import services
from reporting.models import MonthlyReport, OverdueItem, ReportKind, ReportStatus

pytestmark = pytest.mark.django_db
D = datetime.date
DAY = D(2027, 2, 1)
NEXT = datetime.timedelta(days=1)


@pytest.fixture
def xinqiao_unit(xinqiao):
    unit = Unit.objects.get(township=xinqiao)
    unit.email = "xinqiao@zhangping.example"
    unit.save()
    return unit


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Run the sweep for a day and deliver what it queued; (counts of new items, messages sent by this run)."""

    def run(day: datetime.date):
        already = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            counts = services.sweep_deadlines(day=day)
        return counts, mail.outbox[already:]

    return run


def unappraised(township, registered_on: datetime.date, name: str):
    household = HouseholdFactory(
        village=VillageFactory(township=township, name=f"{name}村"), registered_on=registered_on, head_name=name
    )
    DwellingFactory(household=household)
    return household


# An unappraised household, day by day ---------------------------------------------------------------------------


def test_an_overdue_appraisal_is_announced_once_and_cleared_when_appraised(xinqiao, xinqiao_unit, sweep):
    late = unappraised(xinqiao, D(2026, 12, 1), "张老汉")  # due 2027-01-01
    later = unappraised(xinqiao, D(2027, 1, 3), "李大娘")  # due 2027-02-03: overdue from 2027-02-04
    unappraised(xinqiao, D(2027, 1, 20), "王阿婆")  # due 2027-02-20
    appraised = unappraised(xinqiao, D(2026, 11, 1), "陈师傅")
    AppraisalFactory(dwelling=appraised.dwellings.get())

    counts, sent = sweep(DAY)
    assert counts["appraisal"] == 1 and sum(counts.values()) == 1
    item = OverdueItem.objects.get()
    assert (item.kind, item.object_id, item.township, item.unit) == ("appraisal", late.pk, xinqiao, xinqiao_unit)
    assert (item.due_on, item.first_seen_on, item.cleared_on) == (D(2027, 1, 1), DAY, None)
    assert "张老汉" in item.label
    [message] = sent
    assert message.to == ["xinqiao@zhangping.example"]
    assert message.subject == "新桥镇人民政府：2027-02-01 新增逾期事项 1 项"
    assert "张老汉" in message.body and "2027-01-01" in message.body
    assert "李大娘" not in message.body and "陈师傅" not in message.body

    counts, sent = sweep(DAY)  # the same day again
    assert sum(counts.values()) == 0 and sent == [] and OverdueItem.objects.count() == 1

    counts, sent = sweep(DAY + NEXT)  # nothing new
    assert sum(counts.values()) == 0 and sent == [] and OverdueItem.objects.count() == 1

    AppraisalFactory(dwelling=late.dwellings.get())
    counts, sent = sweep(DAY + 2 * NEXT)
    item.refresh_from_db()
    assert item.cleared_on == DAY + 2 * NEXT and sent == []

    counts, sent = sweep(DAY + 3 * NEXT)  # 李大娘 is now overdue
    assert counts["appraisal"] == 1
    fresh = OverdueItem.objects.get(cleared_on__isnull=True)
    assert (fresh.object_id, fresh.first_seen_on, fresh.due_on) == (later.pk, DAY + 3 * NEXT, D(2027, 2, 3))
    [message] = sent
    assert "李大娘" in message.body and "张老汉" not in message.body
    assert message.subject == "新桥镇人民政府：2027-02-04 新增逾期事项 1 项"
    assert len(mail.outbox) == 2


def test_a_township_without_its_own_address_is_reached_through_its_staff(xinqiao, staff, other_staff, sweep):
    assert Unit.objects.get(township=xinqiao).email == ""
    staff.email = "chen@xinqiao.example"
    staff.save()
    other_staff.email = "lin@shuangyang.example"
    other_staff.save()
    unappraised(xinqiao, D(2026, 12, 1), "张老汉")
    _counts, sent = sweep(DAY)
    assert [message.to for message in sent] == [["chen@xinqiao.example"]]


def test_a_unit_nobody_can_receive_keeps_its_items_unannounced_and_shows_on_the_admins_home(xinqiao, client, sweep):
    admin = make_user(Role.BUREAU_ADMIN)  # and no township staff anywhere
    unappraised(xinqiao, D(2026, 12, 1), "张老汉")
    counts, sent = sweep(DAY)
    assert counts["appraisal"] == 1 and sent == []
    item = OverdueItem.objects.get()
    assert item.unit == Unit.objects.get(township=xinqiao)
    assert not item.announced  # nobody was told: announced once someone can receive it
    assert not OutgoingEmail.objects.exists() and not Notice.objects.exists()

    # The bureau administrator's home counts the units nobody can be notified at and links to them.
    client.force_login(admin)
    home = client.get("/").content.decode()
    line = re.search(
        r'<a href="([^"]+)">\s*<span class="todo-count">(\d+)</span>\s*<span class="todo-label">无法通知', home
    )
    assert line, home
    listed = client.get(html.unescape(line.group(1)))
    names = {unit.name for unit in listed.context["cl"].queryset}
    assert listed.context["cl"].result_count == int(line.group(2)) > 0
    assert "新桥镇人民政府" in names and "双洋镇人民政府" in names
    assert Unit.objects.get(kind=Unit.Kind.BUREAU).name not in names  # its administrators and officials receive

    # The next sweep after the unit gets an address announces the waiting items, once.
    Unit.objects.filter(township=xinqiao).update(email="xinqiao@zhangping.example")
    _counts, sent = sweep(DAY + NEXT)
    assert [message.to for message in sent] == [["xinqiao@zhangping.example"]] and "张老汉" in sent[0].body
    item.refresh_from_db()
    assert item.announced
    assert "新桥镇人民政府" not in {
        unit.name for unit in client.get(html.unescape(line.group(1))).context["cl"].queryset
    }


def test_staff_without_an_address_get_the_overdue_items_in_their_inbox(xinqiao, staff, other_staff, sweep):
    assert Unit.objects.get(township=xinqiao).email == "" and staff.email == ""
    unappraised(xinqiao, D(2026, 12, 1), "张老汉")
    _counts, sent = sweep(DAY)
    assert sent == [] and not OutgoingEmail.objects.exists()
    assert OverdueItem.objects.get().announced
    [notice] = Notice.objects.all()
    assert notice.recipient == staff and notice.read_at is None  # not other_staff: another township
    assert notice.title == "新桥镇人民政府：2027-02-01 新增逾期事项 1 项"
    assert notice.url == reverse("inspections:overdue")  # one kind: its late list
    sweep(DAY)  # the same day again: nobody is told twice
    assert Notice.objects.count() == 1


# Every kind of late item ---------------------------------------------------------------------------------------


@pytest.fixture
def late_records(xinqiao, staff, personas, admin, poverty_office):
    """One record of each other kind, late on DAY, in 新桥镇 (the lead: from the poverty office)."""
    from rectification.tests.factories import dangerous_dwelling, new_case, standards

    village = VillageFactory(township=xinqiao, name="东坑村")
    problem = Problem.objects.create(
        township=xinqiao,
        source=Problem.Source.SELF_INSPECTION,
        kind=Problem.Kind.OTHER,
        description="屋面漏雨未整改",
        deadline=DAY - NEXT,
    )
    Problem.objects.create(  # due today: not yet late
        township=xinqiao,
        source=Problem.Source.SELF_INSPECTION,
        kind=Problem.Kind.OTHER,
        description="墙体开裂待处理",
        deadline=DAY,
    )

    from rectification import services as rectification

    clerk = personas[Role.COMPLAINT_CLERK]
    complaint, _code = rectification.log_complaint(
        actor=clerk,
        complaint=Complaint(
            channel=Complaint.Channel.HOTLINE,
            received_at=timezone.now() - datetime.timedelta(hours=1),
            reporter_name="王举报",
            category=Complaint.Category.DANGEROUS_NOT_RENOVATED,
            content="土坯房仍有人住",
            township=xinqiao,
        ),
    )
    Complaint.objects.filter(pk=complaint.pk).update(acceptance_due=D(2027, 1, 20), handling_due=D(2027, 3, 1))

    lead = LeadTransfer.objects.create(
        direction=LeadTransfer.Direction.OUTGOING,
        from_unit=poverty_office,
        to_unit=Unit.objects.get(township=xinqiao),
        subject="低保户住房待核实",
        sent_on=D(2027, 1, 20),
        created_by=admin,
    )
    LeadTransfer.objects.create(  # sent five days ago: within the receipt period
        direction=LeadTransfer.Direction.OUTGOING,
        from_unit=poverty_office,
        to_unit=Unit.objects.get(township=xinqiao),
        subject="新线索",
        sent_on=DAY - 5 * NEXT,
        created_by=admin,
    )

    visited = HouseholdFactory(village=village, head_name="回访户")
    dwelling = DwellingFactory(household=visited)
    AppraisalFactory(dwelling=dwelling)
    campaign = Campaign.objects.create(
        name="2027年第一季度回访", kind=Campaign.Kind.QUARTERLY, starts_on=D(2027, 1, 1), due_on=D(2027, 1, 31)
    )
    revisit = Revisit.objects.create(campaign=campaign, dwelling=dwelling, due_on=D(2027, 1, 31))

    standards()
    case = new_case(staff, dangerous_dwelling(HouseholdFactory(village=village, head_name="危房户")))
    RenovationCase.objects.filter(pk=case.pk).update(last_activity_on=D(2026, 12, 20))
    case.refresh_from_db()
    return {"problem": problem, "complaint": complaint, "lead": lead, "revisit": revisit, "case": case}


def test_every_kind_of_late_record_becomes_an_item_of_the_right_unit(
    late_records, xinqiao, xinqiao_unit, poverty_office, sweep
):
    poverty_office.email = "fupin@zhangping.example"
    poverty_office.save()
    counts, sent = sweep(DAY)
    assert counts == {
        "appraisal": 0,
        "revisit": 1,
        "problem": 1,
        "case": 1,
        "complaint": 1,
        "lead": 1,
        # issue 24's late kinds: none of these records is one (the D house's case is recent, no placard is due yet)
        "dangerous": 0,
        "renovation": 0,
        "placard": 0,
    }
    items = {
        (item.kind, item.object_id): (item.township_id, item.unit_id, item.due_on) for item in OverdueItem.objects.all()
    }
    records = late_records
    assert items == {
        ("problem", records["problem"].pk): (xinqiao.pk, xinqiao_unit.pk, DAY - NEXT),
        ("complaint", records["complaint"].pk): (xinqiao.pk, xinqiao_unit.pk, D(2027, 1, 20)),
        ("lead", records["lead"].pk): (None, poverty_office.pk, D(2027, 1, 27)),
        ("revisit", records["revisit"].pk): (xinqiao.pk, xinqiao_unit.pk, D(2027, 1, 31)),
        ("case", records["case"].pk): (xinqiao.pk, xinqiao_unit.pk, D(2027, 1, 19)),
    }
    by_address = {tuple(message.to): message for message in sent}
    assert set(by_address) == {("xinqiao@zhangping.example",), ("fupin@zhangping.example",)}
    township_mail = by_address[("xinqiao@zhangping.example",)]
    assert township_mail.subject == "新桥镇人民政府：2027-02-01 新增逾期事项 4 项"
    problem_label = OverdueItem.objects.get(kind="problem").label
    for text in (problem_label, records["complaint"].ticket, "回访户", records["case"].number):
        assert text in township_mail.body
    assert "低保户住房待核实" not in township_mail.body
    lead_mail = by_address[("fupin@zhangping.example",)]
    assert "低保户住房待核实" in lead_mail.body and "新线索" not in lead_mail.body
    assert lead_mail.subject.endswith("新增逾期事项 1 项")

    counts, sent = sweep(DAY)
    assert sum(counts.values()) == 0 and sent == []


def test_late_records_handled_since_are_cleared(late_records, sweep):
    sweep(DAY)
    records = late_records
    Problem.objects.update(status=Problem.Status.RESOLVED, resolution="已整改")  # both, or the second turns late
    LeadTransfer.objects.filter(pk=records["lead"].pk).update(receipt_on=D(2027, 2, 1), receipt_by="李")
    Revisit.objects.filter(pk=records["revisit"].pk).update(status=Revisit.Status.DONE, visited_on=D(2027, 2, 1))
    Complaint.objects.filter(pk=records["complaint"].pk).update(acceptance_due=D(2027, 3, 1))
    RenovationCase.objects.filter(pk=records["case"].pk).update(last_activity_on=D(2027, 2, 1))
    counts, sent = sweep(DAY + NEXT)
    assert sum(counts.values()) == 0 and sent == []
    assert set(OverdueItem.objects.values_list("kind", "cleared_on")) == {
        (kind, DAY + NEXT) for kind in ("problem", "complaint", "lead", "revisit", "case")
    }


def test_a_long_list_is_cut_in_the_email_and_counted(xinqiao, xinqiao_unit, sweep):
    many = services.EMAIL_LIST_LIMIT + 3
    Problem.objects.bulk_create(
        Problem(township=xinqiao, source="self_inspection", kind="other", description=f"问题{n}", deadline=DAY - NEXT)
        for n in range(many)
    )
    counts, sent = sweep(DAY)
    assert counts["problem"] == many
    [message] = sent
    assert message.subject.endswith(f"新增逾期事项 {many} 项")
    assert message.body.count("  - ") == services.EMAIL_LIST_LIMIT
    assert f"共 {many} 项" in message.body


# The reports' figures ------------------------------------------------------------------------------------------


def test_the_sweep_refreshes_the_figures_of_unsubmitted_reports_only(xinqiao, shuangyang, other_staff, sweep):
    services.open_reports(kind=ReportKind.MONTHLY, day=DAY)
    submitted = MonthlyReport.objects.get(unit__township=shuangyang)
    services.save_report(actor=other_staff, report=submitted, progress="完成", problems_handled="无", submit=True)
    open_report = MonthlyReport.objects.get(unit__township=xinqiao)
    frozen = MonthlyReport.objects.get(pk=submitted.pk).figures
    assert open_report.figures["covered"] == 0 and frozen["covered"] == 0
    unappraised(xinqiao, D(2027, 1, 25), "新户甲")
    unappraised(shuangyang, D(2027, 1, 25), "新户乙")
    sweep(DAY + NEXT)
    open_report.refresh_from_db()
    assert open_report.figures["covered"] == 1 and open_report.status == ReportStatus.OPEN
    assert MonthlyReport.objects.get(pk=submitted.pk).figures == frozen


# The outbox ----------------------------------------------------------------------------------------------------


def test_the_same_key_queues_one_email(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue_email(key="test:1", to=["a@zhangping.example", "a@zhangping.example"], subject="一", body="正文")
        second = queue_email(key="test:1", to=["b@zhangping.example"], subject="二", body="另一正文")
    assert first == second and OutgoingEmail.objects.count() == 1
    stored = OutgoingEmail.objects.get()
    assert (stored.recipients, stored.subject, stored.status) == (["a@zhangping.example"], "一", "sent")
    [message] = mail.outbox
    assert (message.to, message.subject) == (["a@zhangping.example"], "一")


def test_no_recipient_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_email(key="test:2", to=[], subject="一", body="正文") is None
        assert queue_email(key="test:3", to=["", ""], subject="一", body="正文") is None
    assert not OutgoingEmail.objects.exists() and mail.outbox == []
