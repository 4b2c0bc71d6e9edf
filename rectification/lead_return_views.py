"""The quarterly lead returns (线索季报): the units × filed/not filed overview of a quarter, and one unit's return,
which its liaison files (pre-filled from the lead register) while the quarter's window is open."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from housing_safety.dates import PlausibleYear
from housing_safety.params import int_param, year_param
from housing_safety.web import GET_POST, page, run_form

from . import lead_returns, services
from .forms import LeadReturnForm
from .models.complaints import LEAD_RETURN_FIGURES

VIEW = "rectification.view_leadquarterreturn"


def _quarter(year: int, quarter: int) -> tuple[int, int]:
    """A quarter named in a path, or 404 (a year the registry cannot hold, a quarter other than 1-4)."""
    low, high = PlausibleYear().bounds()
    if not low <= year <= high or quarter not in (1, 2, 3, 4):
        raise Http404
    return year, quarter


@page(permission=VIEW)
def lead_return_list(request):
    today = timezone.localdate()
    year, quarter = lead_returns.shown_quarter(today)
    asked_year, asked_quarter = year_param(request.GET, ahead=0), int_param(request.GET, "quarter", maximum=4)
    if asked_year is not None and asked_quarter is not None:
        year, quarter = asked_year, asked_quarter
    rows = lead_returns.overview(request.user, year, quarter)
    return render(
        request,
        "rectification/lead_return_list.html",
        {
            "rows": rows,
            "year": year,
            "quarter": quarter,
            "window": lead_returns.window(year, quarter),
            "filed": sum(1 for row in rows if row["filed"]),
            "sent": lead_returns.report_sent(year, quarter),
            "years": range(today.year, today.year - 3, -1),
        },
    )


@page(methods=GET_POST, permission=VIEW)
def lead_return(request, year: int, quarter: int, unit: int):
    year, quarter = _quarter(year, quarter)
    unit = get_object_or_404(lead_returns.return_units_for_user(request.user), pk=unit)
    entry = lead_returns.returns_for_user(request.user).filter(unit=unit, year=year, quarter=quarter).first()
    register = lead_returns.register_figures_by_unit(year, quarter).get(unit.pk, dict.fromkeys(LEAD_RETURN_FIGURES, 0))
    today = timezone.localdate()
    window = lead_returns.window(year, quarter)
    may_file = request.user.has_perm("rectification.add_leadquarterreturn") and lead_returns.is_open(
        year, quarter, today
    )
    if request.method == "POST" and not may_file:
        if not request.user.has_perm("rectification.add_leadquarterreturn"):
            raise PermissionDenied
        messages.error(request, _("The lead return for this quarter cannot be filed now."))
        return redirect("rectification:lead-return", year=year, quarter=quarter, unit=unit.pk)
    initial = register if entry is None else None
    form = LeadReturnForm(request.POST or None, instance=entry, initial=initial)
    filed = run_form(
        form,
        lambda f: services.file_lead_return(
            actor=request.user, unit=unit, year=year, quarter=quarter,
            figures={name: f.cleaned_data[name] for name in LEAD_RETURN_FIGURES},
            situation=f.cleaned_data["situation"], difference_reason=f.cleaned_data["difference_reason"],
        ),
    )  # fmt: skip
    if filed is not None:
        messages.success(
            request, _("The lead return was filed. You may correct it until the bureau's report goes out.")
        )
        return redirect("rectification:lead-return", year=year, quarter=quarter, unit=unit.pk)
    labels = {name: form.fields[name].label for name in LEAD_RETURN_FIGURES}
    figures = entry.figures() if entry else register
    return render(
        request,
        "rectification/lead_return.html",
        {
            "unit": unit,
            "year": year,
            "quarter": quarter,
            "entry": entry,
            "form": form,
            "may_file": may_file,
            "window": window,
            "late": entry is not None and timezone.localdate(entry.filed_at) > window.due_on,
            "comparison": [(labels[name], figures[name], register[name]) for name in LEAD_RETURN_FIGURES],
        },
    )
