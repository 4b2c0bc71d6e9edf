"""Field and overview pages for housing safety, and the public placard check. Thin: parse, call, render."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db.models import Count, Prefetch
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit

from households.identity import mask_name
from households.models import Household
from households.selectors import dwellings_for_user, search_households, townships_for_user, villages_for_user
from housing_safety.access import scope_of, uses_field_app
from housing_safety.pagination import BoundedPaginator
from housing_safety.params import area_lookups, int_param
from housing_safety.web import CONFIRM, DONE, GET_POST, GONE, POST, confirm_form, page, run_form
from housing_safety.workspace import panels_for

from . import selectors, services
from .forms import AppraisalForm, HelperReportForm, PlacardInstallationForm, ReportActionForm, RevisitForm
from .models import Appraisal, Placard, Revisit
from .selectors import HousingStatus

PAGE_SIZE = 50


def _page(request, queryset):
    return BoundedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@page(permission="households.view_household")
def field_home(request):
    """Find a household in one's scope by name or village (or a whole number: the admin's rule), with its status
    at a glance."""
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    households = search_households(request.user, selectors.covered_households_for_user(request.user), query)
    if status in HousingStatus.values:
        households = households.filter(selectors.status_filter(status))
    figure = ""  # the dashboard's figure the list shows, named above it with its total and a × to clear it
    if request.GET.get("appraised") == "1":  # the dashboard's figure 已鉴定
        households = households.filter(selectors.appraised_filter())
        figure = _("Appraised")
    if request.GET.get("placard") == "late":  # the late list: past the placard deadline without one on the wall
        households = households.filter(selectors.placard_missing())
        figure = _("Past the deadline without a placard")
    village = int_param(request.GET, "village")
    # the dashboard's drill-down: township -> village -> its households
    households = households.filter(**area_lookups(request.GET, township="village__township_id", village="village_id"))
    page = _page(request, households.order_by("village_id", "head_name", "pk"))
    return render(
        request,
        "inspections/field_home.html",
        {
            "field_app": uses_field_app(request.user),
            "page": page,
            "query": query,
            "status": status,
            "statuses": HousingStatus.choices,
            "village": village or "",
            "figure": figure,
            "figure_clear_url": _without(request, "appraised", "placard", "page") if figure else "",
            # narrowed to one village: its appraisal forms print as one batch (print_views.village_appraisal_forms)
            "print_village": village and _whole_village(request.user, village),
        },
    )


def _without(request, *names: str) -> str:
    """This page's URL without the query parameters `names` (a filter's ×)."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def _whole_village(user, village_id: int):
    """The village, where the user's scope is its whole township (its staff, the bureau); otherwise None."""
    village = villages_for_user(user).filter(pk=village_id).first()
    return village if village is not None and scope_of(user).covers_township(village.township_id) else None


@page()
def household_detail(request, pk: int):
    household = get_object_or_404(selectors.covered_households_for_user(request.user), pk=pk)
    dwellings = selectors.with_current_appraisal(household.dwellings.all()).prefetch_related(
        Prefetch("appraisals", queryset=Appraisal.objects.select_related("recorded_by"))
    )
    placards = household.placards.order_by("-issued_at")
    current = set(selectors.current_placards(Household.objects.filter(pk=household.pk)).values_list("pk", flat=True))
    return render(
        request,
        "inspections/household_detail.html",
        {
            "household": household,
            "dwellings": dwellings,
            "placards": [(p, p.pk in current) for p in placards],
            # every covered household gets its placard, whatever its status (贫困户房屋安全状况制牌上墙, issue 24)
            "placard_issuable": household.status == Household.Status.ACTIVE,
            **selectors.household_record(request.user, household),
            "panels": panels_for("households.household", request.user, household),
        },
    )


@page(methods=GET_POST, permission="inspections.add_appraisal")
def appraise_dwelling(request, pk: int):
    """The appraisal form, then what will be recorded with the grading rules' warnings, then the record (once): an
    appraisal cannot be changed afterwards."""
    dwelling = get_object_or_404(dwellings_for_user(request.user).select_related("household__village"), pk=pk)
    form = AppraisalForm(request.POST or None, request.FILES or None, dwelling=dwelling)
    state, _appraisal = confirm_form(
        request,
        form,
        lambda f: services.record_appraisal(
            actor=request.user,
            appraisal=f.instance,
            photos=f.cleaned_data["photos"],
            scanned_form=f.cleaned_data["scanned_form"],
        ),
    )
    if state == DONE:
        messages.success(request, _("The appraisal was recorded."))
        return redirect("inspections:household", pk=dwelling.household_id)
    if state == GONE:
        messages.warning(
            request,
            _(
                "This appraisal was already submitted, or its confirmation waited more than a day: nothing was "
                "recorded again. Check the household's appraisals below."
            ),
        )
        return redirect("inspections:household", pk=dwelling.household_id)
    if state == CONFIRM:
        appraisal = form.instance
        components = [(label, getattr(appraisal, f"get_{name}_display")()) for name, label in Appraisal.COMPONENTS]
        return render(
            request,
            "inspections/appraisal_confirm.html",
            {
                "form": form,
                "dwelling": dwelling,
                "appraisal": appraisal,
                "components": components,
                "warnings": selectors.grade_warnings(appraisal),
                "photos": [row for row in form.held.files() if row.field == "photos"],
                "scans": [row for row in form.held.files() if row.field == "scanned_form"],
            },
        )
    return render(request, "inspections/appraisal_form.html", {"form": form, "dwelling": dwelling})


@page(permission="households.view_household")
def overdue(request):
    """Unappraised households past their deadline, most overdue first, with days overdue; with ?within=7, those
    due within the next seven days instead (the home's "due soon" line)."""
    today = timezone.localdate()
    within = int_param(request.GET, "within") == selectors.DUE_SOON_DAYS
    if within:
        households = selectors.due_soon_unappraised_for_user(request.user, today, selectors.DUE_SOON_DAYS)
    else:
        households = selectors.overdue_unappraised_for_user(request.user, today)
    households = households.filter(**area_lookups(request.GET, township="village__township_id", village="village_id"))
    page = _page(request, households.order_by("registered_on", "pk"))
    for household in page:
        household.due_on = selectors.appraisal_due_on(household.registered_on)
        household.days_overdue = (today - household.due_on).days
    return render(request, "inspections/overdue.html", {"page": page, "today": today, "within": within})


@page(permission="households.view_household")
def dangerous(request):
    households = selectors.dangerous_for_user(request.user).order_by("village_id", "head_name", "pk")
    households = households.filter(**area_lookups(request.GET, township="village__township_id", village="village_id"))
    return render(request, "inspections/dangerous.html", {"page": _page(request, households)})


@page(permission="households.view_household")
def status_overview(request):
    """Counts per status: per township for the bureau, per village for township staff."""
    scope = scope_of(request.user)
    by_village = not scope.everything
    key = "village_id" if by_village else "village__township_id"
    counts = selectors.status_counts(selectors.covered_households_for_user(request.user), key)
    groups = villages_for_user(request.user) if by_village else townships_for_user(request.user)
    today = timezone.localdate()
    overdue_counts = dict(
        selectors.overdue_unappraised_for_user(request.user, today).values_list(key).annotate(n=Count("pk")).order_by()
    )
    empty = dict.fromkeys(HousingStatus.values, 0)
    rows = [(group, counts.get(group.pk, empty), overdue_counts.get(group.pk, 0)) for group in groups]
    rows = [row for row in rows if sum(row[1].values()) or row[2]]
    totals = {s: sum(r[1][s] for r in rows) for s in HousingStatus.values}
    return render(
        request,
        "inspections/status_overview.html",
        {
            "rows": rows,
            "statuses": HousingStatus.choices,
            "totals": totals,
            "overdue_total": sum(r[2] for r in rows),
            "by_village": by_village,
        },
    )


# Placards ---------------------------------------------------------------------------------------------------


def _placard_households(request, source):
    """Households named by ?household= / ?village= / ?township= (within scope); None if none was named."""
    households = selectors.covered_households_for_user(request.user)
    for parameter, lookup in (("household", "pk"), ("village", "village_id"), ("township", "village__township_id")):
        if source.get(parameter):
            value = int_param(source, parameter)
            return None if value is None else households.filter(**{lookup: value})
    return None


@page(methods=POST, permission="inspections.add_placard")
def issue_placards(request):
    households = _placard_households(request, request.POST)
    if households is None:
        return HttpResponseBadRequest(_("Name a household, village or township."))
    created = services.issue_placards(actor=request.user, households=list(households.select_related("village")))
    messages.success(request, _("%(count)d new placards issued.") % {"count": len(created)})
    parameter = next(p for p in ("household", "village", "township") if request.POST.get(p))
    # The print page's two sizes only: the size is copied into the redirect (one over 2,048 characters made it a 400
    # after the placards were issued).
    size = "a5" if request.POST.get("size") == "a5" else "a4"
    query = urlencode({parameter: request.POST[parameter], "size": size})
    return redirect(f"{reverse('inspections:placard-print')}?{query}")


@page(permission="inspections.view_placard")
def print_placards(request):
    """One print job: every current placard of the named households, one per page (A4 or A5)."""
    households = _placard_households(request, request.GET)
    if households is None:
        return HttpResponseBadRequest(_("Name a household, village or township."))
    size = "a5" if request.GET.get("size") == "a5" else "a4"
    placards = (
        selectors.placards_for_user(request.user)
        .select_related("appraisal__dwelling", "secured_housing", "household__village__township__unit")
        .order_by("household__village__name", "household__head_name", "-issued_at")
    )
    current = list(placards.filter(pk__in=selectors.current_placards(households).values("pk")))
    actions = selectors.placard_actions(current)
    cards = [(p, _qr_svg(p), actions.get(p.pk)) for p in current]
    return render(
        request,
        "inspections/placards_print.html",
        {
            "cards": cards,
            "size": size,
            "hotline": settings.SUPERVISION_HOTLINE,
        },
    )


def _qr_svg(placard: Placard) -> str:
    url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("placard-verify", args=[placard.token])
    return segno.make(url, error="m").svg_inline(scale=3, border=2)


@page(methods=POST, permission="inspections.change_placard")
def install_placard(request, pk: int):
    placard = get_object_or_404(selectors.placards_for_user(request.user), pk=pk)
    form = PlacardInstallationForm(request.POST, request.FILES)
    installed = run_form(
        form,
        lambda f: services.record_placard_installation(
            actor=request.user,
            placard=placard,
            installed_on=f.cleaned_data["installed_on"],
            photo=f.cleaned_data["photo"],
        ),
    )
    if installed is not None:
        messages.success(request, _("The installation was recorded."))
    for errors in form.errors.values():  # the form sits on the household page: its refusals are messages there
        for message in errors:
            messages.error(request, message)
    return redirect("inspections:household", pk=placard.household_id)


@page(permission="inspections.view_placard")
def placard_coverage(request):
    """Installed placards against safe households, per township, with the yearly deadline."""
    today = timezone.localdate()
    month, day = (int(part) for part in settings.PLACARD_DEADLINE.split("-"))
    deadline = datetime.date(today.year, month, day)
    rows = selectors.placard_coverage(request.user, today)
    if (township := int_param(request.GET, "township")) is not None:  # the dashboard's township drill-down
        rows = [row for row in rows if row["township"].pk == township]
    return render(
        request,
        "inspections/placard_coverage.html",
        {"rows": rows, "deadline": deadline, "past_deadline": today > deadline},
    )


# Public -----------------------------------------------------------------------------------------------------


@require_GET
@ratelimit(key="ip", rate=lambda group, request: settings.PLACARD_VERIFY_RATE, block=True)
def verify_placard(request, token: str):
    """Anyone scanning the QR code sees whether the placard is still current; no personal numbers, ever."""
    placard = (
        Placard.objects.select_related("household__village__township", "appraisal__dwelling", "secured_housing")
        .filter(token=token)
        .first()
    )
    if placard is None:
        return render(
            request,
            "public/message.html",
            {
                "title": _("Placard not found"),
                "message": _("This code does not belong to a placard issued by the housing bureau."),
            },
            status=404,
        )
    return render(
        request,
        "public/placard_verify.html",
        {
            "placard": placard,
            "is_current": selectors.placard_is_current(placard),
            "action": selectors.placard_actions([placard]).get(placard.pk),
            "masked_name": mask_name(placard.household.head_name),
            "hotline": settings.SUPERVISION_HOTLINE,
        },
    )


# Revisits and helpers' reports --------------------------------------------------------------------------------


@page(permission="inspections.view_revisit")
def revisit_list(request):
    """Revisits still to do in one's scope, earliest due first; overdue ones flagged."""
    today = timezone.localdate()
    revisits = selectors.revisits_for_user(request.user).filter(status=Revisit.Status.PENDING).order_by("due_on", "pk")
    overdue = request.GET.get("show") == "overdue"
    if overdue:  # the dashboard's late list (its heading and empty line say so)
        revisits = revisits.filter(selectors.revisit_overdue(today))
    revisits = revisits.filter(
        **area_lookups(request.GET, township="township_id", village="dwelling__household__village_id")
    )
    counts = None
    if scope_of(request.user).everything:  # the same table for everyone who sees every township
        # Counting every revisit of the province is the one cost of this page that grows with the data (0.8 s at
        # 500,000 households), so the table is kept for SUMMARY_CACHE_SECONDS; the list below is always current.
        counts = cache.get_or_set(
            f"revisit-counts:{today}",
            lambda: selectors.revisit_counts_by_township(request.user, today),
            settings.SUMMARY_CACHE_SECONDS,
        )
    context = {"page": _page(request, revisits), "today": today, "counts": counts, "overdue": overdue}
    return render(request, "inspections/revisit_list.html", context)


@page(methods=GET_POST, permission="inspections.change_revisit")
def revisit_record(request, pk: int):
    revisit = get_object_or_404(selectors.revisits_for_user(request.user), pk=pk)
    form = RevisitForm(request.POST or None, request.FILES or None, revisit=revisit)
    recorded = run_form(
        form, lambda f: services.record_revisit(actor=request.user, revisit=revisit, **f.cleaned_data), request=request
    )
    if recorded:
        messages.success(request, _("The revisit was recorded."))
        return redirect("inspections:revisits")
    return render(request, "inspections/revisit_form.html", {"form": form, "revisit": revisit})


@page(permission="inspections.add_helperreport")
def helper_home(request):
    """A helper's own households, nothing else."""
    households = selectors.covered_households_for_user(request.user).order_by("village__name", "head_name")
    context = {"page": _page(request, households), "field_app": uses_field_app(request.user)}
    return render(request, "inspections/helper_home.html", context)


@page(methods=GET_POST, permission="inspections.add_helperreport")
def helper_report(request, pk: int):
    household = get_object_or_404(selectors.covered_households_for_user(request.user), pk=pk)
    form = HelperReportForm(request.POST or None, request.FILES or None, household=household)
    reported = run_form(
        form,
        lambda f: services.report_observation(actor=request.user, household=household, **f.cleaned_data),
        request=request,
    )
    if reported:
        messages.success(request, _("Thank you: the township has been told."))
        return redirect("inspections:helper")
    return render(request, "inspections/helper_report.html", {"form": form, "household": household})


@page(permission="inspections.change_helperreport")
def report_list(request):
    """Helpers' reports for the township: unhandled first."""
    reports = selectors.helper_reports_for_user(request.user).order_by("handled_at", "-reported_at")
    return render(request, "inspections/report_list.html", {"page": _page(request, reports)})


@page(methods=GET_POST, permission="inspections.change_helperreport")
def report_detail(request, pk: int):
    report = get_object_or_404(selectors.helper_reports_for_user(request.user), pk=pk)
    form = ReportActionForm(request.POST or None)
    if run_form(form, lambda f: services.record_report_action(actor=request.user, report=report, **f.cleaned_data)):
        messages.success(request, _("The action was recorded."))
        return redirect("inspections:report", pk=report.pk)
    return render(
        request, "inspections/report_detail.html", {"form": form, "report": report, "problems": report.problems.all()}
    )
