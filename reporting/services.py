"""Writes of the reporting app: unit reports (open, fill in, submit, mark late), reminders, the consolidated report,
the daily deadline sweep and the quarterly lead report. Every function takes the date it acts for, so a job can
be run for any day, and running it twice changes nothing the second time."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from households.department_lists import remove_read_files
from households.models import Unit
from households.selectors import bureau_people, lead_report_recipient, people_of_units
from households.uploads import scrub_image, validate_attachment_file
from housing_safety import held_files, printing
from housing_safety.access import SYSTEM, Role, require_perm
from housing_safety.api import idempotency
from housing_safety.excel import XLSX_TYPE
from housing_safety.mail import queue_email
from housing_safety.models import OutgoingEmail
from housing_safety.notices import notify, post_notices
from housing_safety.people import person_name
from rectification import lead_returns
from rectification.documents import lead_report_workbook
from rectification.models.complaints import LeadQuarterReturn

from . import documents, rollup, selectors
from .models import (
    LATE_BY_TOWNSHIP,
    ConsolidatedReport,
    ExportFile,
    MonthlyReport,
    OverdueItem,
    OverdueKind,
    ReportKind,
    ReportStatus,
)

SUBMIT = "reporting.submit_monthlyreport"
EMAIL_LIST_LIMIT = 50  # items per kind listed in an overdue e-mail; the rest are counted and linked


# Dates ---------------------------------------------------------------------------------------------------------


def report_due_on(kind: str, day: datetime.date) -> datetime.date:
    """A monthly report is due on the 23rd of its month, whatever weekday that is; the year-end summary on
    YEAR_END_SUMMARY_DUE (10 November) of its year."""
    if kind == ReportKind.MONTHLY:
        return day.replace(day=settings.REPORT_DUE_DAY)
    month, month_day = (int(part) for part in settings.YEAR_END_SUMMARY_DUE.split("-"))
    return datetime.date(day.year, month, month_day)


def report_period(kind: str, day: datetime.date) -> datetime.date:
    """The month a report of `kind` opened around `day` belongs to (its first day)."""
    return report_due_on(kind, day).replace(day=1)


def deadline(report: MonthlyReport) -> datetime.datetime:
    """The moment a report becomes late: its due date at REPORT_CUTOFF_HOUR (18:00), when the 23rd's job runs."""
    moment = datetime.datetime.combine(report.due_on, datetime.time(settings.REPORT_CUTOFF_HOUR))
    return timezone.make_aware(moment)


def figures_day(report: MonthlyReport, today: datetime.date) -> datetime.date:
    """Figures of a past month stop at its last day; the current month's run to today."""
    month_end = (report.period + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return min(today, month_end)


# Recipients ----------------------------------------------------------------------------------------------------


def bureau_recipients() -> list[str]:
    """The bureau's officials and administrators, the bureau unit's address and REPORT_RECIPIENTS."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, profile__role__in=[Role.BUREAU_OFFICIAL, Role.BUREAU_ADMIN])
        .exclude(email="")
    )
    units = Unit.objects.filter(kind=Unit.Kind.BUREAU, is_active=True).exclude(email="")
    addresses = {*users.values_list("email", flat=True), *units.values_list("email", flat=True)}
    return sorted(addresses | set(settings.REPORT_RECIPIENTS))


def unit_recipients(unit: Unit) -> list[str]:
    """The unit's own address; without one, the addresses of its people."""
    if unit.email:
        return [unit.email]
    people = Q(profile__unit=unit)
    if unit.township_id:
        people |= Q(profile__role=Role.TOWNSHIP_STAFF, profile__townships=unit.township_id)
    users = get_user_model().objects.filter(people, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def _link(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


# Unit reports --------------------------------------------------------------------------------------------------


def open_reports(*, kind: str = ReportKind.MONTHLY, day: datetime.date) -> int:
    """Open the reports of `kind` for every unit that reports (selectors.reporting_units: the plan's responsible
    units, never the bureau) and has none for that month, figures filled in; the number opened. Units that already
    have theirs are left alone."""
    period = report_period(kind, day)
    have = MonthlyReport.objects.filter(kind=kind, period=period).values("unit_id")
    units = list(selectors.reporting_units().exclude(pk__in=have))
    figures = selectors.figures_for_units(units, day)
    now = timezone.now()
    reports = [
        MonthlyReport(
            unit=unit,
            kind=kind,
            period=period,
            due_on=report_due_on(kind, day),
            figures=figures[unit.pk],
            figures_at=now,
        )
        for unit in units
    ]
    created = MonthlyReport.objects.bulk_create(reports, ignore_conflicts=True)
    return len(created)


def refresh_open_reports(*, day: datetime.date) -> int:
    """Bring the figures of every report not yet submitted up to date (submission freezes them)."""
    reports = list(
        selectors.expected(MonthlyReport.objects.exclude(status=ReportStatus.SUBMITTED))
        .filter(period__lte=day)
        .select_related("unit")
    )
    now = timezone.now()
    by_day = defaultdict(list)  # past months' figures stop at their month end: one computation per distinct day
    for report in reports:
        by_day[figures_day(report, day)].append(report)
    refreshed = 0
    for figures_on, group in by_day.items():
        figures = selectors.figures_for_units({report.unit for report in group}, figures_on)
        for report in group:  # a report submitted meanwhile keeps the figures it was submitted with
            unsubmitted = MonthlyReport.objects.filter(pk=report.pk).exclude(status=ReportStatus.SUBMITTED)
            refreshed += unsubmitted.update(figures=figures[report.unit_id], figures_at=now, updated_at=now)
    return refreshed


def _check_may_file(actor: AbstractBaseUser, report: MonthlyReport) -> None:
    require_perm(actor, SUBMIT)
    if not selectors.units_reporting_for(actor).filter(pk=report.unit_id).exists():
        raise PermissionDenied(_("You may only fill in your own unit's reports."))


def _check_not_submitted(report: MonthlyReport) -> None:
    if report.status == ReportStatus.SUBMITTED:
        raise ValidationError(
            _("This report was submitted on %(when)s by %(who)s; it cannot be changed or submitted again.")
            % {
                "when": f"{timezone.localtime(report.submitted_at):%Y-%m-%d %H:%M}",
                "who": person_name(report.submitted_by),
            }
        )


def save_report(
    *, actor: AbstractBaseUser, report: MonthlyReport, progress: str, problems_handled: str, submit: bool, now=None
) -> MonthlyReport:
    """Save a unit's narrative, and with `submit` hand the report in: both parts of the narrative are then
    required, the figures are frozen as of submission, and it is marked on time or late against its deadline.
    Only the unit's own people may do it, and only once; a late report is still accepted, marked late."""
    _check_may_file(actor, report)
    progress, problems_handled = progress.strip(), problems_handled.strip()
    with transaction.atomic():
        report = (
            MonthlyReport.objects.select_for_update(of=("self",))
            .select_related("unit", "submitted_by")
            .get(pk=report.pk)
        )
        _check_not_submitted(report)
        report.progress, report.problems_handled = progress, problems_handled
        fields = ["progress", "problems_handled"]
        if submit:
            errors = {}
            if not progress:
                errors["progress"] = _("Describe this month's progress before submitting.")
            if not problems_handled:
                errors["problems_handled"] = _(
                    "Describe the prominent problems and how they were handled (write “none” if there were none)."
                )
            if errors:
                raise ValidationError(errors)
            now = now or timezone.now()
            report.figures = selectors.unit_figures(report.unit, figures_day(report, timezone.localdate(now)))
            report.figures_at = now
            report.status = ReportStatus.SUBMITTED
            report.submitted_by, report.submitted_at = actor, now
            report.on_time = now <= deadline(report)
            fields += ["figures", "figures_at", "status", "submitted_by", "submitted_at", "on_time"]
        report._history_user = actor
        report.save(update_fields=fields)
    return report


STAMPED_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def check_stamped_copy(uploaded) -> str:
    """A stamped copy is a scan: a PDF, JPEG or PNG by its content (not its name), within ATTACHMENT_MAX_BYTES, a
    picture that decodes within ATTACHMENT_MAX_PIXELS; the detected type. A picture is re-encoded without its
    metadata (kept on the upload, as attachments' are)."""
    refused = ValidationError(
        _("The stamped copy must be a scan as a PDF, JPEG or PNG file; this file is not one."), code="bad_type"
    )
    try:
        mime = validate_attachment_file(uploaded)
    except ValidationError as error:
        if error.code == "bad_type":  # its message lists what attachments take (Word, Excel): not what this takes
            raise refused from None
        raise
    if mime not in STAMPED_TYPES:
        raise refused
    if getattr(uploaded, "scrubbed", None) is None:
        uploaded.scrubbed = scrub_image(uploaded, mime)
    return mime


def receive_stamped_copy(*, actor: AbstractBaseUser, report: MonthlyReport, uploaded_file) -> MonthlyReport:
    """The unit's people upload the scan of their report signed and stamped (盖章件), once the report is submitted;
    a later upload replaces it (the earlier file stays in the report's history). The bureau sees it as received."""
    _check_may_file(actor, report)
    try:
        check_stamped_copy(uploaded_file)
    except ValidationError as error:  # on the file's field: a form's refused file is not held for its next submit
        raise ValidationError({"stamped_copy": error.error_list}) from None
    stored, mime, _day = uploaded_file.scrubbed
    with transaction.atomic():
        report = MonthlyReport.objects.select_for_update(of=("self",)).select_related("unit").get(pk=report.pk)
        if report.status != ReportStatus.SUBMITTED:
            raise ValidationError(
                {"stamped_copy": _("Submit the report first; then upload the scan of its signed and stamped copy.")}
            )
        report.stamped_copy.save(f"stamped{STAMPED_TYPES[mime]}", stored, save=False)
        report.stamped_copy_type = mime
        report.stamped_copy_name = (getattr(uploaded_file, "name", "") or "")[:200]
        report.stamped_received_at, report.stamped_received_by = timezone.now(), actor
        report._history_user = actor
        report.save(
            update_fields=[
                "stamped_copy", "stamped_copy_type", "stamped_copy_name", "stamped_received_at", "stamped_received_by"
            ]
        )  # fmt: skip
    return report


def mark_late_reports(*, day: datetime.date, kind: str | None = None) -> int:
    """Reports due on or before `day` and not submitted become late (逾期未报); the number marked."""
    reports = selectors.expected(MonthlyReport.objects.filter(status=ReportStatus.OPEN, due_on__lte=day))
    if kind:
        reports = reports.filter(kind=kind)
    return reports.update(status=ReportStatus.LATE, updated_at=timezone.now())  # update() skips auto_now


def remind_units(*, kind: str = ReportKind.MONTHLY, day: datetime.date) -> int:
    """Tell every unit whose report of `kind` for that month is not yet submitted (its people's inbox and the
    e-mail); once per unit and month. The number of units reached."""
    period = report_period(kind, day)
    reports = list(
        selectors.expected(MonthlyReport.objects.filter(kind=kind, period=period))
        .exclude(status=ReportStatus.SUBMITTED)
        .select_related("unit")
    )
    people = people_of_units(report.unit for report in reports)
    reached = 0
    for report in reports:
        context = {"report": report, "url": _link(report.get_absolute_url()), "deadline": deadline(report)}
        reached += bool(
            notify(
                key=f"reminder:{kind}:{period:%Y-%m}:{report.unit_id}",
                users=people[report.unit_id],
                emails=[report.unit.email],
                title=_("Reminder: %(report)s for %(month)s is due on %(due)s")
                % {
                    "report": report.get_kind_display(),
                    "month": f"{period:%Y-%m}",
                    "due": f"{report.due_on:%Y-%m-%d}",
                },
                url=report.get_absolute_url(),
                email_body=render_to_string("reporting/email/reminder.txt", context),
            )
        )
    return reached


# The consolidated report ---------------------------------------------------------------------------------------


def build_consolidated_report(*, day: datetime.date) -> tuple[ConsolidatedReport, bool]:
    """Build the month's consolidated report and e-mail it to the bureau with the workbook attached and the chart
    shown inline. Once it has been e-mailed a second run changes nothing; (report, built now)."""
    period = day.replace(day=1)
    existing = ConsolidatedReport.objects.filter(period=period).first()
    if existing is not None and existing.email_id:
        return existing, False
    # The dashboard's maintained figures, brought up to this moment (the townships changed since the job's last
    # refresh): one SUM instead of some twenty GROUP BYs over the province, and the same numbers (reporting.rollup)
    rollup.refresh_figures(day=day)
    rows, totals = selectors.township_table(SYSTEM, day, rollup=rollup.current(SYSTEM, day) is not None)
    late: dict = {}  # the late items per township and kind, as the workbook lists them
    workbook = documents.consolidated_workbook(day, rows, totals, late_counts=late)
    chart = documents.chart_png(rows, day)
    filename = documents.report_filename(day)
    with transaction.atomic():
        report, _created = ConsolidatedReport.objects.select_for_update().get_or_create(
            period=period, defaults={"built_at": timezone.now()}
        )
        if report.email_id:
            return report, False
        report.workbook.save(filename, ContentFile(workbook), save=False)
        report.chart.save(f"chart-{period:%Y-%m}.png", ContentFile(chart), save=False)
        # with the figures, the late items per township as its workbook lists them: its document later says what
        # it said
        report.built_at = timezone.now()
        report.key_figures = {**totals, LATE_BY_TOWNSHIP: {str(key or ""): n for key, n in late.items()}}
        context = {"day": day, "figures": documents.key_figures(totals), "url": _link("/dashboard/")}
        subject = _("Consolidated monthly report on rural housing safety, %(month)s") % {"month": f"{day:%Y-%m}"}
        report.email = queue_email(
            key=f"consolidated:{period:%Y-%m}",
            to=bureau_recipients(),
            subject=subject,
            body=render_to_string("reporting/email/consolidated.txt", context),
            html_body=render_to_string("reporting/email/consolidated.html", context),
            attachments=[
                {"path": report.workbook.name, "filename": filename, "mimetype": XLSX_TYPE},
                {"path": report.chart.name, "filename": "chart.png", "mimetype": "image/png", "cid": "chart"},
            ],
        )
        report.save()
        # The bureau's people find it in their inbox too, whether or not they have an address.
        post_notices(
            key=f"consolidated:{period:%Y-%m}",
            users=bureau_people(),
            title=subject,
            url=reverse("reporting:consolidated", args=[report.pk]),
        )
    return report, True


def close_month(*, day: datetime.date) -> str:
    """The 23rd at 18:00: unsubmitted monthly reports become late, and the consolidated report goes out."""
    late = mark_late_reports(day=day, kind=ReportKind.MONTHLY)
    report, built = build_consolidated_report(day=day)
    state = _("built and e-mailed") if built else _("already sent")
    return _("%(late)s reports marked late; consolidated report %(month)s %(state)s") % {
        "late": late,
        "month": f"{report.period:%Y-%m}",
        "state": state,
    }


# The deadline sweep --------------------------------------------------------------------------------------------


def _chunks(values: list, size: int = 5000):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def sweep_deadlines(*, day: datetime.date) -> dict[str, int]:
    """Bring the overdue lists up to `day` (new items in, items no longer late cleared) and e-mail each unit what
    became late for it today. Counts of new items per kind."""
    township_units = dict(Unit.objects.filter(kind=Unit.Kind.TOWNSHIP).values_list("township_id", "pk"))
    counts = {}
    for late in selectors.LATE_LISTS:
        current = {}
        for values in late.rows(SYSTEM, day).iterator(chunk_size=5000):
            current[values["pk"]] = late.describe(values)
        open_items = OverdueItem.objects.filter(kind=late.kind, cleared_on__isnull=True)
        known = set(open_items.values_list("object_id", flat=True))
        new = [
            OverdueItem(
                kind=late.kind,
                object_id=object_id,
                township_id=current[object_id]["township_id"],
                unit_id=current[object_id].get("unit_id") or township_units.get(current[object_id]["township_id"]),
                label=current[object_id]["label"][:200],
                due_on=current[object_id]["due_on"],
                first_seen_on=day,
            )
            for object_id in current.keys() - known
        ]
        OverdueItem.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        for chunk in _chunks(sorted(known - current.keys())):
            open_items.filter(object_id__in=chunk).update(cleared_on=day)
        counts[str(late.kind)] = len(new)
    _announce_overdue(day)
    refresh_open_reports(day=day)
    return counts


# Where an overdue notice leads when all it tells of is of one kind: that kind's late list (the person's own scope);
# items of several kinds lead to the person's home, whose to-dos count each kind.
LATE_LIST_LINKS = {
    OverdueKind.APPRAISAL: ("inspections:overdue", ""),
    OverdueKind.REVISIT: ("inspections:revisits", "?show=overdue"),
    OverdueKind.PROBLEM: ("rectification:problems", "?status=overdue"),
    OverdueKind.CASE: ("rectification:cases", "?stalled=1"),
    OverdueKind.COMPLAINT: ("rectification:complaints", "?show=overdue"),
    OverdueKind.LEAD: ("rectification:leads", "?show=unreceipted"),
}


def _overdue_link(items: list[OverdueItem]) -> str:
    kinds = {item.kind for item in items}
    if len(kinds) != 1:
        return reverse("home")
    name, query = LATE_LIST_LINKS[kinds.pop()]
    return reverse(name) + query


def _announce_overdue(day: datetime.date) -> int:
    """Tell each unit's people the overdue items not yet announced, once: a notice in their inbox and the e-mail,
    written together with the items' `announced` flag, so a second sweep the same day announces only what it found
    new. Items of a unit nobody can receive for (no address, no active person) stay unannounced: they are announced
    by the first sweep after someone can receive them (the bureau administrator's home lists such units). The
    number of units told."""
    fresh = OverdueItem.objects.filter(announced=False, cleared_on__isnull=True, unit__isnull=False)
    by_unit: dict[int, list[OverdueItem]] = defaultdict(list)
    for item in fresh.order_by("kind", "due_on", "pk"):
        by_unit[item.unit_id].append(item)
    units = list(Unit.objects.filter(pk__in=by_unit.keys()).select_related("township"))
    people = people_of_units(units)
    told = 0
    for unit in units:
        items = by_unit[unit.pk]
        groups = defaultdict(list)
        for item in items:
            groups[item.get_kind_display()].append(item)
        context = {
            "unit": unit,
            "day": day,
            "groups": [(label, listed[:EMAIL_LIST_LIMIT], len(listed)) for label, listed in groups.items()],
            "url": _link("/dashboard/"),
        }
        with transaction.atomic():
            reached = notify(
                key=f"overdue:{day:%Y-%m-%d}:{unit.pk}:{min(item.pk for item in items)}",
                users=people[unit.pk],
                emails=[unit.email],
                title=_("%(count)s items became overdue for %(unit)s on %(day)s")
                % {"count": len(items), "unit": unit.name, "day": f"{day:%Y-%m-%d}"},
                body="；".join(f"{label} {len(listed)}" for label, listed in groups.items()),
                url=_overdue_link(items),
                email_body=render_to_string("reporting/email/overdue.txt", context),
            )
            if reached:
                OverdueItem.objects.filter(pk__in=[item.pk for item in items]).update(announced=True)
                told += 1
    return told


# The quarterly lead report -------------------------------------------------------------------------------------


def send_quarterly_lead_report(*, day: datetime.date) -> OutgoingEmail | None:
    """On the first day of a quarter: the lead report of the quarter just ended, to the bureau and the city
    discipline commission (DISCIPLINE_COMMISSION_EMAIL). Once per quarter."""
    last_day = day.replace(day=1) - datetime.timedelta(days=1)
    year, quarter = last_day.year, (last_day.month - 1) // 3 + 1
    key = f"leads:{year}-Q{quarter}"
    existing = OutgoingEmail.objects.filter(key=key).first()
    if existing is not None:
        return existing
    filename = _("lead-report-%(year)s-Q%(quarter)s.xlsx") % {"year": year, "quarter": quarter}
    path = default_storage.save(f"reports/{filename}", ContentFile(lead_report_workbook(year=year, quarter=quarter)))
    subject = _("Quarterly report on lead transfers, %(year)s Q%(quarter)s") % {"year": year, "quarter": quarter}
    post_notices(key=key, users=bureau_people(), title=subject, url=reverse("rectification:leads"))
    body = _("The quarterly report on lead transfers (线索双向移送) for %(year)s Q%(quarter)s is attached.") % {
        "year": year,
        "quarter": quarter,
    }
    body += "\n\n" + _lead_returns_line(year, quarter)
    attachments = [{"path": path, "filename": filename, "mimetype": XLSX_TYPE}]
    commission = lead_report_recipient()
    address = commission.email if commission is not None and commission.is_active else ""
    if not address:
        _record_undeliverable_lead_report(key, subject, body, attachments, commission)
    return queue_email(key=key, to=[*bureau_recipients(), address], subject=subject, body=body, attachments=attachments)


def _lead_returns_line(year: int, quarter: int) -> str:
    """Which participating departments filed their quarterly lead return (市各专项整治参与单位每季度向牵头单位报送):
    the report reads their figures, and the register's for the others."""
    units = list(lead_returns.participating_units().order_by("name").values_list("pk", "name"))
    filed = set(LeadQuarterReturn.objects.filter(year=year, quarter=quarter).values_list("unit_id", flat=True))
    missing = [name for pk, name in units if pk not in filed]
    line = _("%(filed)s of %(units)s participating departments filed their quarterly lead return.") % {
        "filed": len(units) - len(missing),
        "units": len(units),
    }
    if missing:
        line += " " + _("Not filed (the lead register's figures are reported, marked in the workbook): %(names)s.") % {
            "names": "、".join(missing)
        }
    return line


def _record_undeliverable_lead_report(key, subject, body, attachments, commission) -> None:
    """ "牵头单位按季度报市纪委监委" with no address to send to: the send is recorded as given up (the outgoing e-mails'
    admin shows it, with the reason) and the bureau (administrators and officials) is told, once per quarter."""
    reason = _("The discipline commission (%(unit)s) has no e-mail address: enter it in the responsible units.") % {
        "unit": commission.name if commission is not None else _("no unit marked as the recipient")
    }
    OutgoingEmail.objects.get_or_create(
        key=f"{key}:commission",
        defaults={
            "recipients": [],
            "subject": subject[:200],
            "body": body,
            "attachments": attachments,
            "status": OutgoingEmail.Status.GAVE_UP,
            "last_error": reason,
        },
    )
    post_notices(
        key=f"{key}:commission",
        users=bureau_people(),
        title=_("The lead report could not be sent to the discipline commission"),
        body=reason,
        url=reverse("admin:households_unit_change", args=[commission.pk])
        if commission is not None
        else reverse("admin:households_unit_changelist"),
    )


# The year-end summary -----------------------------------------------------------------------------------------


def send_year_end_summary(*, day: datetime.date) -> OutgoingEmail:
    """On YEAR_END_SUMMARY_DUE (10 November) at 18:00: the campaign's year-end summary (工作总结), from 1 January to
    `day`, task by task and mechanism by mechanism of the plan (documents.year_end_workbook), e-mailed to the
    bureau's recipients as the consolidated report is; the bureau's people find it in their inbox. Once a year."""
    year = day.year
    key = f"year-end-summary:{year}"
    existing = OutgoingEmail.objects.filter(key=key).first()
    if existing is not None:
        return existing
    summary = selectors.year_end_summary(year, day)
    filename = documents.year_end_filename(year)
    path = default_storage.save(f"reports/{filename}", ContentFile(documents.year_end_workbook(summary)))
    subject = _("Year-end summary of the special campaign on rural housing safety, %(year)s") % {"year": year}
    url = reverse("reporting:year-end", args=[year])
    post_notices(key=key, users=bureau_people(), title=subject, url=url)
    lines = [
        _("The year-end summary (工作总结) of %(year)s, from %(start)s to %(day)s, is attached.")
        % {"year": year, "start": f"{summary['start']:%Y-%m-%d}", "day": f"{day:%Y-%m-%d}"},
        "",
    ]
    for heading, figures in summary["sections"]:
        lines += [str(heading), *(f"  {label}：{value if value is not None else '-'}" for label, value, _k in figures)]
    lines += ["", _link(url)]
    return queue_email(
        key=key,
        to=bureau_recipients(),
        subject=subject,
        body="\n".join(str(line) for line in lines),
        attachments=[{"path": path, "filename": filename, "mimetype": XLSX_TYPE}],
    )


def remove_expired_files(*, day: datetime.date) -> str:
    """Retention of files that carry personal data. An export file is deleted EXPORT_FILE_RETENTION_DAYS after it
    was made (the row stays, marked expired, so its user sees what happened); a department's uploaded list
    LIST_FILE_RETENTION_DAYS after upload, once read (households.department_lists.remove_read_files); the files a
    form held for its next submit (housing_safety.held_files) a day before `day` at the latest; a large print's PDF
    (housing_safety.printing) as an export file; the API's remembered answers to Idempotency-Keys
    (housing_safety.api.idempotency) API_IDEMPOTENCY_DAYS after the request."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    exports = 0
    cut_off = start - datetime.timedelta(days=settings.EXPORT_FILE_RETENTION_DAYS)
    expired = ExportFile.objects.filter(status=ExportFile.Status.READY, created_at__lt=cut_off)
    for export in expired:
        export.file.delete(save=False)
        ExportFile.objects.filter(pk=export.pk).update(file="", status=ExportFile.Status.EXPIRED)
        exports += 1
    lists = remove_read_files(uploaded_before=start - datetime.timedelta(days=settings.LIST_FILE_RETENTION_DAYS))
    held = held_files.remove_expired(before=start - held_files.hold_for())  # files of forms never completed
    prints = printing.remove_expired(before=cut_off)  # large prints: names and addresses, kept like an export
    keys = idempotency.remove_expired(before=start - datetime.timedelta(days=settings.API_IDEMPOTENCY_DAYS))
    return (
        f"export files removed {exports}, list files removed {lists}, held files removed {held}, "
        f"print files removed {prints}, idempotency keys removed {keys}"
    )
