"""Dashboard, unit reports and consolidated reports. Thin: parse, call a selector or service, render."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from households.selectors import townships_for_user, villages_for_user
from housing_safety import disclosure
from housing_safety.access import narrowed_to_township, scope_of
from housing_safety.db_router import replica_unavailable, use_replica
from housing_safety.excel import xlsx_response
from housing_safety.pagination import BoundedPaginator
from housing_safety.params import int_param
from housing_safety.web import GET_POST, page, run_form
from inspections.selectors import HousingStatus, covered_households_for_user
from rectification.models import CASE_STEPS
from rectification.selectors import leads_for_user, leads_without_receipt

from . import charts, documents, rollup, selectors, services, submissions
from .forms import ReportForm, StampedCopyForm
from .models import ConsolidatedReport, ReportKind, ReportStatus
from .selectors.plan import plan_progress

TILE_KEYS = ("covered", "appraised", "appraisal_overdue", "dangerous_without_case", "cases_open", "placard_share")
TABLE_KEYS = (
    "covered", "appraised", "secured_unappraised", "appraisal_overdue", "status_dangerous", "dangerous_without_case",
    "dangerous_late", "cases_open", "cases_completed_month", "renovations_late", "placard_share", "placards_late",
    "revisits_overdue", "problems_open", "problems_overdue", "complaints_open", "complaints_overdue",
)  # fmt: skip
LATE_LIST_LENGTH = 5
# Where a figure leads: the list of the same records, (URL name, query, the permission that list needs); on a
# township's drill-down the list is narrowed to that township (?township=, each list's own filter), so the list
# counts what the figure counts (reporting/tests/test_dashboard_links.py follows every link).
VIEW_HOUSEHOLD, VIEW_CASE = "households.view_household", "rectification.view_renovationcase"
FIGURE_LINKS = {
    "covered": ("inspections:field", {}, VIEW_HOUSEHOLD),
    "appraised": ("inspections:field", {"appraised": "1"}, VIEW_HOUSEHOLD),
    "appraisal_overdue": ("inspections:overdue", {}, VIEW_HOUSEHOLD),
    "dangerous_without_case": ("rectification:dangerous-without-case", {}, VIEW_CASE),
    "cases_open": ("rectification:cases", {"status": "open"}, VIEW_CASE),
    "placard_share": ("inspections:placard-coverage", {}, "inspections.view_placard"),
    # the late lists, by kind
    "appraisal": ("inspections:overdue", {}, VIEW_HOUSEHOLD),
    "revisit": ("inspections:revisits", {"show": "overdue"}, "inspections.view_revisit"),
    "problem": ("rectification:problems", {"status": "overdue"}, "rectification.view_problem"),
    "case": ("rectification:cases", {"stalled": "1"}, VIEW_CASE),
    "complaint": ("rectification:complaints", {"show": "overdue"}, "rectification.view_complaint"),
    "lead": ("rectification:leads", {"show": "unreceipted"}, "rectification.view_leadtransfer"),
    "dangerous": ("rectification:dangerous-without-case", {"late": "1"}, VIEW_CASE),
    "renovation": ("rectification:cases", {"late": "plan"}, VIEW_CASE),
    "placard": ("inspections:field", {"placard": "late"}, VIEW_HOUSEHOLD),
    # the table's other figures
    "status_dangerous": ("inspections:dangerous", {}, VIEW_HOUSEHOLD),
    "revisits_overdue": ("inspections:revisits", {"show": "overdue"}, "inspections.view_revisit"),
    "problems_open": ("rectification:problems", {"status": "unresolved"}, "rectification.view_problem"),
    "problems_overdue": ("rectification:problems", {"status": "overdue"}, "rectification.view_problem"),
    "complaints_open": ("rectification:complaints", {"status": "open"}, "rectification.view_complaint"),
    "complaints_overdue": ("rectification:complaints", {"show": "overdue"}, "rectification.view_complaint"),
    "dangerous_late": ("rectification:dangerous-without-case", {"late": "1"}, VIEW_CASE),
    "renovations_late": ("rectification:cases", {"late": "plan"}, VIEW_CASE),
    "placards_late": ("inspections:field", {"placard": "late"}, VIEW_HOUSEHOLD),
}
BY_TOWNSHIP_ONLY = {"placard_share"}  # the placard coverage is a table of townships


def _figure_link(user, key: str, township=None, village=None) -> str:
    """The list behind a figure, when there is one the user may open; narrowed to `township` or `village` when
    given."""
    if key not in FIGURE_LINKS or (village is not None and key in BY_TOWNSHIP_ONLY):
        return ""
    name, query, permission = FIGURE_LINKS[key]
    if not user.has_perm(permission):
        return ""
    area = {"village": village.pk} if village is not None else {"township": township.pk} if township else {}
    query = {**query, **area}
    return f"{reverse(name)}?{urlencode(query)}" if query else reverse(name)


def _row_links(user, rows, township, keys) -> None:
    """Each row's figures link to their lists narrowed to the row's area (a township, or on a township's
    drill-down a village): row.links, by figure; a figure of nothing (0, or no share) links nowhere."""
    for row in rows:
        area = {"village": row.area} if township is not None else {"township": row.area}
        row.links = {key: link for key in keys if row.figures.get(key) and (link := _figure_link(user, key, **area))}


def _columns(keys) -> list[selectors.Column]:
    by_key = {column.key: column for column in selectors.COLUMNS}
    return [by_key[key] for key in keys]


@page(permission="reporting.view_dashboard")
@use_replica()  # read-only, the heaviest reads of the system; a few seconds' replication lag does not matter here
def dashboard(request):
    """The city (bureau) or one's townships: tiles, a table per township or per village, charts, the plan's phases
    and what is late. ?township= drills down to that township's villages; villages link to their households."""
    if replica_unavailable():  # the figures are read from the primary instead: slower, never older
        messages.info(request, _("The read replica is unreachable: these figures come from the main database."))
    today = timezone.localdate()
    user = request.user
    if (village_id := int_param(request.GET, "village")) is not None:
        return _village_dashboard(request, get_object_or_404(villages_for_user(user), pk=village_id), today)
    township = None
    if (township_id := int_param(request.GET, "township")) is not None:
        township = get_object_or_404(townships_for_user(user), pk=township_id)
    elif not scope_of(user).everything and len(scope_of(user).township_ids) == 1:
        township = townships_for_user(user).get()
    state = rollup.current(user, today)  # the maintained figures, when they hold this user's for today
    if township is None:
        rows, totals = selectors.township_table(user, today, rollup=state is not None)
    else:
        rows, totals = selectors.village_table(user, township, today, rollup=state is not None)
    statuses = [(label, totals[f"status_{value}"]) for value, label in HousingStatus.choices]
    grades = [(_("Grade %(grade)s") % {"grade": g}, totals[f"grade_{g}"]) for g in ("A", "B", "C", "D")]
    steps = [(step.label, totals[f"step_{step}"]) for step in CASE_STEPS]
    _row_links(user, rows, township, TABLE_KEYS)
    trend = selectors.made_safe_by_month(user, today, township=township)
    context = {
        "township": township,
        "rows": rows,
        "totals": totals,
        "tiles": [
            (column, totals[column.key], _figure_link(user, column.key, township)) for column in _columns(TILE_KEYS)
        ],
        "table_columns": _columns(TABLE_KEYS),
        "status_chart": charts.stacked(statuses, ["#4c9f70", "#2f7ebc", "#8e6cbf", "#d1495b", "#b8b8b8"]),
        "grade_chart": charts.bars(grades, "#7a8793"),
        "step_chart": charts.bars(steps),
        "trend_chart": charts.columns(
            trend, [("renovated", _("Renovations accepted"), "#2f7ebc"), ("secured", _("Secured elsewhere"), "#8e6cbf")]
        ),
        "timeline": charts.phase_timeline(today),
        "late": [
            {**group, "url": _figure_link(user, group["kind"], township)}
            for group in selectors.late_items(
                user, today, limit=LATE_LIST_LENGTH, township=township, kept_until=state and state.as_of
            )
        ],
        "late_counts": {
            "appraisal": totals["appraisal_overdue"],
            "revisit": totals["revisits_overdue"],
            "problem": totals["problems_overdue"],
            "case": totals["cases_stalled"],
            "complaint": totals["complaints_overdue"],
            "dangerous": totals["dangerous_late"],
            "renovation": totals["renovations_late"],
            "placard": totals["placards_late"],
            # the city's leads: every unit's in scope (departments' and the bureau's too), as its list shows them;
            # the table's total counts the townships' units only
            "lead": totals["leads_without_receipt"] if township is not None else _leads_without_receipt(user, today),
        },
        "today": today,
        "figures_as_of": timezone.localtime(state.as_of) if state is not None else None,
        "consistency": _consistency(user) if township is None else [],
        # 今年数据是否已提交龙岩 (五月提交龙岩市审核): the city's view only, for who may see the submissions
        "submission": submissions.state_for_year(user, today.year, today)
        if township is None and user.has_perm("reporting.view_datasubmission")
        else None,
        "city": scope_of(user).everything,
    }
    context["plan"] = _plan_progress(user, totals, today, township, context)
    return render(request, "reporting/dashboard.html", context)


PLAN_FIGURES = (
    "appraised", "placard_share", "renovations_late", "placards_late", "revisits_overdue", "appraisal_overdue",
    "dangerous_late", "complaints_open", "complaints_overdue",
)  # fmt: skip


def _plan_progress(user, totals, today, township, context) -> list:
    """The plan's tasks and mechanisms, each with its progress from the figures above, linked as the figures are."""
    links = {key: link for key in PLAN_FIGURES if (link := _figure_link(user, key, township))}
    return plan_progress(
        user,
        totals,
        today,
        links=links,
        consistency=context["consistency"],
        township=township,
        problems_url=reverse("rectification:problems") if user.has_perm("rectification.view_problem") else "",
        submission=context["submission"],
    )


def _leads_without_receipt(user, today: datetime.date) -> int:
    return leads_without_receipt(leads_for_user(user), today).count()


def _village_dashboard(request, village, today: datetime.date):
    """The last step of the drill-down (city -> township -> village): the village's covered households with their
    status, each leading to its record; the way back is the breadcrumbs."""
    households = covered_households_for_user(request.user, today).filter(village=village)
    page_ = BoundedPaginator(households.order_by("head_name", "pk"), 50).get_page(request.GET.get("page"))
    # the township level's tiles, narrowed to the village (its row of the township's table), each to its list:
    # from the maintained figures when they hold this user's for today (one SUM over the township's rows)
    state = rollup.current(request.user, today)
    if state is not None:
        by_village = rollup.summed(by="village", township_id=village.township_id)
    else:
        by_village = selectors.area_figures(
            narrowed_to_township(request.user, village.township_id), by="village", day=today
        )
    figures = selectors.figures.total([{**dict.fromkeys(selectors.KEYS, 0), **by_village.get(village.pk, {})}])
    tiles = [
        (column, figures[column.key], _figure_link(request.user, column.key, village=village))
        for column in _columns(TILE_KEYS)
    ]
    context = {
        "tiles": tiles,
        "totals": figures,
        "village": village,
        "township": village.township,
        "page": page_,
        "today": today,
        "figures_as_of": timezone.localtime(state.as_of) if state is not None else None,
        "city": scope_of(request.user).everything,
    }
    return render(request, "reporting/dashboard_village.html", context)


def _consistency(user) -> list[tuple]:
    """One figure per department: how far its latest list agrees with our records (信息比对)."""
    if not user.has_perm("households.view_departmentlist"):
        return []
    from households.department_lists import reconciliation

    return [
        (department["unit"], department["total"]["rate"], department["list"]) for department in reconciliation(user)
    ]


def _recent_months(today: datetime.date, count: int = 12) -> list[datetime.date]:
    first = today.replace(day=1)
    return [first - relativedelta(months=offset) for offset in range(count)][::-1]


@page(permission="reporting.view_monthlyreport")
def report_list(request):
    """Units x months: on time, late, missing. The bureau sees every unit, a unit's people their own unit."""
    kind = request.GET.get("kind", ReportKind.MONTHLY)
    if kind not in ReportKind.values:
        kind = ReportKind.MONTHLY
    today = timezone.localdate()
    if kind == ReportKind.MONTHLY:
        periods = _recent_months(today)
    else:
        periods = [services.report_period(kind, datetime.date(today.year - offset, 1, 1)) for offset in (2, 1, 0)]
    grid = selectors.report_grid(request.user, periods, kind)
    for row in grid:
        row["cells"] = [(report, selectors.report_cell_state(report)) for report in row["cells"]]
    consolidated = []
    if request.user.has_perm("reporting.view_consolidatedreport"):
        consolidated = ConsolidatedReport.objects.select_related("email").order_by("-period")[:12]
    context = {
        "kind": kind,
        "kinds": ReportKind.choices,
        "periods": periods,
        "grid": grid,
        "consolidated": consolidated,
        "own_units": selectors.units_reporting_for(request.user),
    }
    return render(request, "reporting/report_list.html", context)


@page(methods=GET_POST, permission="reporting.view_monthlyreport")
def report_detail(request, pk: int):
    """A unit report: its figures (live until submitted, frozen after) and the unit's narrative, which its own
    people save as a draft or submit."""
    report = get_object_or_404(selectors.reports_for_user(request.user), pk=pk)
    may_file = (
        report.status != ReportStatus.SUBMITTED
        and selectors.units_reporting_for(request.user).filter(pk=report.unit_id).exists()
    )
    may_stamp = (
        report.status == ReportStatus.SUBMITTED
        and selectors.units_reporting_for(request.user).filter(pk=report.unit_id).exists()
    )
    stamping = request.method == "POST" and "stamped" in request.POST
    stamped_form = StampedCopyForm(request.POST if stamping else None, request.FILES if stamping else None)
    form = ReportForm(None if stamping else request.POST or None, instance=report)
    if stamping:
        received = run_form(
            stamped_form,
            lambda f: services.receive_stamped_copy(
                actor=request.user, report=report, uploaded_file=f.cleaned_data["stamped_copy"]
            ),
            request=request,
        )
        if received is not None:
            messages.success(request, _("Stamped copy received."))
            return redirect(received)
    elif request.method == "POST":
        submit = "submit" in request.POST

        def save(form):
            return services.save_report(
                actor=request.user,
                report=report,
                progress=form.cleaned_data["progress"],
                problems_handled=form.cleaned_data["problems_handled"],
                submit=submit,
            )

        saved = run_form(form, save)
        if saved is not None:
            messages.success(request, _("Report submitted.") if submit else _("Draft saved."))
            return redirect(saved)
    figures = selectors.report_figures(report, timezone.localdate())
    groups: list[tuple[str, list]] = []
    for column in selectors.COLUMNS:
        if not groups or groups[-1][0] != column.group:
            groups.append((column.group, []))
        groups[-1][1].append((column, figures.get(column.key)))
    context = {
        "report": report,
        "form": form,
        "may_file": may_file,
        "groups": groups,
        "deadline": services.deadline(report),
        "state": selectors.report_cell_state(report),
        "may_stamp": may_stamp,
        "stamped_form": stamped_form,
    }
    return render(request, "reporting/report_detail.html", context)


@page(permission="reporting.view_consolidatedreport")
def consolidated_download(request, pk: int):
    report = get_object_or_404(ConsolidatedReport, pk=pk)
    return xlsx_response(report.workbook.open("rb"), documents.report_filename(report.period))


@page(permission="reporting.view_consolidatedreport")
def consolidated_now(request):
    """The consolidated workbook with today's figures, built on request (not stored, not e-mailed)."""
    today = timezone.localdate()
    return xlsx_response(documents.consolidated_workbook(today), f"consolidated-{today:%Y-%m-%d}.xlsx")


@page(permission="households.view_household")
def export_index(request):
    from housing_safety.background import BROKER_DOWN_MESSAGE, waiting_for

    from . import exports
    from .models import ExportFile
    from .tasks import build_export

    datasets = [(name, spec.label, exports.columns_for(name)) for name, spec in exports.DATASETS.items()]
    # waiting: the broker refused the export's task; it starts with the ten-minute retry (same query).
    files = ExportFile.objects.filter(user=request.user).annotate(waiting=waiting_for(build_export))[:10]
    pending = any(item.status == ExportFile.Status.PENDING for item in files)
    context = {
        "datasets": datasets,
        "dataset_labels": {name: spec.label for name, spec in exports.DATASETS.items()},
        "files": files,
        "pending": pending,
        "broker_down": BROKER_DOWN_MESSAGE,
    }
    return render(request, "reporting/export_index.html", context)


@page(permission="households.view_household")
def export_download(request, dataset: str):
    """A flat export for the provincial system, streamed from a temporary file (memory does not grow with rows).
    Above EXPORT_INLINE_MAX_ROWS rows it is built in the background and listed on the exports page."""
    from django.conf import settings
    from django.http import Http404

    from housing_safety.background import BROKER_DOWN_MESSAGE, enqueue_on_commit

    from . import exports
    from .models import ExportFile
    from .tasks import build_export

    if dataset not in exports.DATASETS:
        raise Http404
    with use_replica():  # the export itself reads the replica too (exports.write_export)
        too_large = exports.DATASETS[dataset].rows(request.user).count() > settings.EXPORT_INLINE_MAX_ROWS
    if too_large:
        export = ExportFile.objects.create(user=request.user, dataset=dataset)
        dispatch = enqueue_on_commit(build_export, export.pk)  # sent at once: no transaction is open here
        if dispatch.refused:
            messages.warning(request, BROKER_DOWN_MESSAGE)
        else:
            messages.info(request, _("The export is large: it is being prepared and will be listed below when ready."))
        return redirect("reporting:exports")
    handle = exports.write_export(request.user, dataset, ip_address=disclosure.client_ip(request))
    return xlsx_response(handle, f"{dataset}-{timezone.localdate():%Y-%m-%d}.xlsx")


@page()
def export_file(request, pk: int):
    """A background export, for the user who asked for it only."""
    from .models import ExportFile

    export = get_object_or_404(ExportFile, pk=pk, user=request.user, status=ExportFile.Status.READY)
    return xlsx_response(export.file.open("rb"), f"{export.dataset}-{export.pk}.xlsx")
