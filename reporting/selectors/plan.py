"""The plan's tasks and mechanisms on the dashboard: one line each, its responsible units, its deadline in the plan's
words, and its progress computed from the records.

The figures are the dashboard's own totals (one GROUP BY per kind of record, already read for the table) and the
reconciliation it shows; this adds a fixed number of queries whatever the number of records: the plan's items with
their units, the problems per item, the units' last reports and (for the bureau) the last quarterly lead report.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Count, F, Prefetch, Q
from django.utils.translation import gettext as _

from households.models import Township, Unit
from housing_safety.access import scope_of
from housing_safety.models import OutgoingEmail
from inspections import selectors as safety
from inspections.models import Revisit
from rectification import plan as plan_rules
from rectification import selectors as rectification
from rectification.models import PlanItem

from ..models import ReportKind, ReportStatus
from .reports import expected, reports_for_user
from .year_end import year_end_due

Rule = PlanItem.Rule


@dataclass
class Line:
    """One figure of an item's progress: what it counts, the figure, the list behind it, and whether it is late."""

    label: str
    value: str
    url: str = ""
    late: bool = False


@dataclass
class Deadline:
    """A dated deadline of the plan: the next one, and whether the last one was met where the records say (None
    where they do not)."""

    label: str
    on: datetime.date
    met: bool | None = None
    note: str = ""


@dataclass
class ItemProgress:
    item: PlanItem
    units: list[str]
    lines: list[Line] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    problems_open: int = 0
    problems_overdue: int = 0
    problems_url: str = ""


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole}" + (f"（{round(100 * part / whole)}%）" if whole else "")


def _units(item: PlanItem, user: AbstractBaseUser) -> list[str]:
    """The item's responsible units as the plan names them; a township's staff see their own township's unit among
    them, not the others' (each township sees its own dashboard)."""
    scope = scope_of(user)
    names = [
        unit.name.removeprefix("漳平市")
        for unit in item.responsible_units.all()
        if scope.everything or unit.township_id is None or unit.township_id in scope.township_ids
    ]
    return [*names, _("every township and subdistrict")] if item.every_township else names


def plan_progress(
    user: AbstractBaseUser,
    totals: dict,
    today: datetime.date,
    *,
    links: dict[str, str],
    consistency: list[tuple] = (),
    township: Township | None = None,
    problems_url: str = "",
    submission=None,
) -> list[ItemProgress]:
    """Each task, mechanism and dated requirement of the plan with its progress, read as `user` (narrowed to
    `township` on a drill-down). `links` maps a figure's key to its list (the dashboard's own links); a problem
    count links to the problem list filtered by the item (`problems_url` + the item's id). `submission` is this
    year's sending to Longyan (reporting.submissions.state_for_year), where the user may see it."""
    items = PlanItem.objects.prefetch_related(
        Prefetch("responsible_units", queryset=Unit.objects.order_by("kind", "name"))
    )
    order = {PlanItem.Kind.TASK: 0, PlanItem.Kind.MECHANISM: 1, PlanItem.Kind.REQUIREMENT: 2}
    items = sorted(items, key=lambda item: (order.get(item.kind, 3), item.number))
    problems = rectification.problems_for_user(user)
    if township is not None:
        problems = problems.filter(township=township)
    per_item = rectification.problem_counts(problems, "plan_item_id", today)
    area = {"township": township.pk} if township is not None else {}
    rows = []
    for item in items:
        counts = per_item.get(item.pk, {})
        row = ItemProgress(
            item=item,
            units=_units(item, user),
            problems_open=counts.get("open", 0),
            problems_overdue=counts.get("overdue", 0),
            problems_url=f"{problems_url}?{urlencode({'plan': item.pk, 'status': 'unresolved', **area})}"
            if problems_url
            else "",
        )
        context = Context(user, totals, today, links, list(consistency), township, submission)
        MEASURES[item.rule](row, context)
        rows.append(row)
    return rows


@dataclass
class Context:
    user: AbstractBaseUser
    totals: dict
    today: datetime.date
    links: dict[str, str]
    consistency: list[tuple]
    township: Township | None
    submission: object | None


def _late_line(c: Context, label: str, key: str) -> Line:
    """A count of records past a deadline, linked to their list; late when there is any."""
    return Line(label, str(c.totals[key]), c.links.get(key, ""), late=c.totals[key] > 0)


def _new_households(row: ItemProgress, c: Context) -> None:
    """Task 一: "6月底前全面完成…全面完成住房安全性评定，6月底前完成贫困户房屋安全状况制牌上墙"."""
    t = c.totals
    due = plan_rules.june_end(c.today.year)
    row.lines = [
        Line(_("Appraised"), _share(t["appraised"], t["covered"]), c.links.get("appraised", "")),
        Line(
            _("Placards on the wall"),
            _share(t["placard_installed"], t["placard_households"]),
            c.links.get("placard_share", ""),
        ),
        _late_line(c, _("Renovations past 30 June"), "renovations_late"),
        _late_line(c, _("Placards past the deadline"), "placards_late"),
    ]
    done = t["renovations_late"] == 0 and t["placards_late"] == 0
    row.deadlines = [Deadline(_("30 June"), due, met=done if c.today > due else None)]


def _revisit_back(row: ItemProgress, c: Context) -> None:
    """Task 二: "持续开展贫困户住房安全“回头看”…逐户开展排查": the look-back's revisits, and the problems they found
    (the item's problems)."""
    row.lines = [
        Line(_("Revisits done"), str(c.totals["revisits_done"])),
        Line(_("Revisits to do"), str(c.totals["revisits_pending"])),
        _late_line(c, _("Revisits overdue"), "revisits_overdue"),
    ]


def _data_entry(row: ItemProgress, c: Context) -> None:
    """Task 三: "加强住建、扶贫部门…信息共享和比对，确保一致，4月份完成，五月提交龙岩市审核": each department's
    reconciliation rate (信息比对, the bureau's view); entry due by 30 April (met when every department's latest
    list agrees); the sending to Longyan due by 31 May (met when this year's was sent in time)."""
    done_by, sent_by = plan_rules.data_entry_dates(c.today.year)
    rates = [(unit, rate) for unit, rate, _list in c.consistency if rate is not None]
    row.lines = [
        Line(
            _("Consistent with %(unit)s") % {"unit": unit.name.removeprefix("漳平市")},
            f"{round(100 * rate)}%",
            late=rate < 1 and c.today > done_by,
        )
        for unit, rate in rates
    ]
    entry = Deadline(_("Entry and reconciliation done"), done_by)
    if rates and c.today > done_by:
        entry.met = all(rate >= 1 for _unit, rate in rates)
    sending = Deadline(_("Sent to Longyan for review"), sent_by)
    if c.submission is not None:
        sending.on = c.submission.due_on
        if c.submission.sent or c.submission.late:
            sending.met = c.submission.sent and not c.submission.late
            sending.note = (
                _("sent on %(day)s") % {"day": c.submission.submission.sent_on.isoformat()}
                if c.submission.sent
                else _("not sent")
            )
    row.deadlines = [entry, sending]


def _base_villages(row: ItemProgress, c: Context) -> None:
    """Task 四: "保障革命基点村群众住房安全…对31个省定革命基点村群众的住房情况组织一次排查认定"."""
    row.lines = [Line(_("Base villages' households covered"), str(c.totals.get("category_base_village", 0)))]


def _information_sharing(row: ItemProgress, c: Context) -> None:
    """Mechanism 1: "住建部门1个月内完成鉴定…动态新增贫困户住房一经鉴定为危房，即行整改"."""
    row.lines = [
        _late_line(c, _("Appraisals overdue (one month)"), "appraisal_overdue"),
        _late_line(c, _("Dangerous houses without action past the deadline"), "dangerous_late"),
    ]


def _quarterly_revisits(row: ItemProgress, c: Context) -> None:
    """Mechanism 2: "每季度跟踪回访排查": the quarter's end is the next deadline; the last quarter's was met when every
    revisit due in it was made by its due date."""
    year, quarter = plan_rules.quarter_of(c.today)
    last_year, last_quarter = plan_rules.previous_quarter(c.today)
    first, last = plan_rules.quarter_start(last_year, last_quarter), plan_rules.quarter_end(last_year, last_quarter)
    revisits = safety.revisits_for_user(c.user).filter(due_on__range=(first, last))
    if c.township is not None:
        revisits = revisits.filter(dwelling__household__village__township=c.township)
    made = Q(status=Revisit.Status.DONE, visited_on__lte=F("due_on"))
    counts = revisits.aggregate(total=Count("pk"), on_time=Count("pk", filter=made))
    row.lines = [_late_line(c, _("Revisits overdue"), "revisits_overdue")]
    row.deadlines = [
        Deadline(_("End of Q%(quarter)s") % {"quarter": quarter}, plan_rules.quarter_end(year, quarter)),
        Deadline(
            _("Q%(quarter)s %(year)s revisits") % {"quarter": last_quarter, "year": last_year},
            last,
            met=counts["on_time"] == counts["total"] if counts["total"] else None,
            note=_("%(on_time)s of %(total)s on time") % counts if counts["total"] else _("none due"),
        ),
    ]


def _monitoring(row: ItemProgress, c: Context) -> None:
    """Mechanism 3: "发现问题立即报告乡镇政府，第一时间进行处置": what helpers report is on the problem list (the item's
    problems, with their deadlines)."""


def _complaints(row: ItemProgress, c: Context) -> None:
    """Mechanism 4: "专人受理、及时处置"."""
    row.lines = [
        Line(_("Open complaints"), str(c.totals["complaints_open"]), c.links.get("complaints_open", "")),
        _late_line(c, _("Complaints overdue"), "complaints_overdue"),
    ]


def _lead_report(row: ItemProgress, c: Context) -> None:
    """四（二）: "牵头单位按季度报市纪委监委": the next report goes out on the first day of the next quarter; the last
    one was met when its e-mail (key leads:YYYY-Qn) went out and reached the commission (no :commission refusal).
    The bureau's own deadline: shown with its outcome to the bureau only."""
    year, quarter = plan_rules.quarter_of(c.today)
    row.deadlines = [Deadline(_("Next quarterly report"), plan_rules.lead_report_due(year, quarter))]
    if not scope_of(c.user).everything:
        return
    last_year, last_quarter = plan_rules.previous_quarter(c.today)
    key = f"leads:{last_year}-Q{last_quarter}"
    statuses = dict(OutgoingEmail.objects.filter(key__in=[key, f"{key}:commission"]).values_list("key", "status"))
    refused = f"{key}:commission" in statuses
    if key not in statuses:
        note = _("not sent")
    elif refused:
        note = _("the commission has no address")
    else:
        note = str(OutgoingEmail.Status(statuses[key]).label)
    row.deadlines.append(
        Deadline(
            _("Q%(quarter)s %(year)s report") % {"quarter": last_quarter, "year": last_year},
            plan_rules.lead_report_due(last_year, last_quarter),
            met=statuses.get(key) == OutgoingEmail.Status.SENT and not refused,
            note=note,
        )
    )


def _unit_reports(row: ItemProgress, c: Context) -> None:
    """四（四）: "各责任单位每月23日前向住建局报送本月整治工作进展情况…11月10日前报送专项整治工作工作总结": the next
    23rd, the last 23rd's reports (how many units reported on time), and this year's summary by 10 November."""
    reports = expected(reports_for_user(c.user))
    if c.township is not None:
        reports = reports.filter(unit__township=c.township)
    last_due, next_due = _last_and_next_23rd(c.today)
    summary_due = year_end_due(c.today.year)
    wanted = Q(kind=ReportKind.MONTHLY, due_on=last_due) | Q(kind=ReportKind.YEAR_END, due_on=summary_due)
    on_time = Q(status=ReportStatus.SUBMITTED, on_time=True)
    rows = reports.filter(wanted).values("kind").annotate(total=Count("pk"), on_time=Count("pk", filter=on_time))
    counts = {entry["kind"]: entry for entry in rows.order_by()}
    monthly = counts.get(ReportKind.MONTHLY, {"total": 0, "on_time": 0})
    summary = counts.get(ReportKind.YEAR_END, {"total": 0, "on_time": 0})
    row.deadlines = [
        Deadline(_("Next monthly report"), next_due),
        Deadline(
            _("Reports due %(day)s") % {"day": last_due.strftime("%m-%d")},
            last_due,
            met=monthly["on_time"] == monthly["total"] if monthly["total"] else None,
            note=_("%(on_time)s of %(total)s on time") % monthly,
        ),
        Deadline(
            _("Year-end summary"),
            summary_due,
            met=summary["on_time"] == summary["total"] if c.today > summary_due and summary["total"] else None,
            note=_("%(on_time)s of %(total)s on time") % summary if summary["total"] else "",
        ),
    ]


def _last_and_next_23rd(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """ "每月23日前" (REPORT_DUE_DAY, as reporting.services.report_due_on): the last due day already over, and the next
    one (today's, on the day itself)."""
    this_month = today.replace(day=settings.REPORT_DUE_DAY)
    if today > this_month:
        return this_month, (this_month + datetime.timedelta(days=31)).replace(day=settings.REPORT_DUE_DAY)
    return (this_month.replace(day=1) - datetime.timedelta(days=1)).replace(day=settings.REPORT_DUE_DAY), this_month


MEASURES = {
    Rule.NEW_HOUSEHOLDS: _new_households,
    Rule.REVISIT_BACK: _revisit_back,
    Rule.DATA_ENTRY: _data_entry,
    Rule.BASE_VILLAGES: _base_villages,
    Rule.INFORMATION_SHARING: _information_sharing,
    Rule.QUARTERLY_REVISITS: _quarterly_revisits,
    Rule.MONITORING: _monitoring,
    Rule.COMPLAINTS: _complaints,
    Rule.LEAD_REPORT: _lead_report,
    Rule.UNIT_REPORTS: _unit_reports,
}
