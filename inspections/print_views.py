"""The appraisal form on paper (inspections/documents.py): one appraisal's form, the blank form for the field, and a
village's forms laid out in the background (housing_safety.printing). Thin: find in scope, draw, answer."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from households.selectors import villages_for_user
from housing_safety import disclosure, printing
from housing_safety.access import scope_of
from housing_safety.pdf import pdf_response
from housing_safety.web import POST, page

from . import documents, selectors

VIEW = "inspections.view_appraisal"


@page(permission=VIEW)
def appraisal_form(request, pk: int):
    """The form of one recorded appraisal; the head's ID number in full only where the reader has just opened this
    household's personal data (the logged unmask), as the household's page would show it."""
    appraisal = get_object_or_404(
        selectors.appraisals_for_user(request.user).select_related("dwelling__household__village__township"), pk=pk
    )
    household = appraisal.dwelling.household
    full = [household.pk] if disclosure.is_unmasked(request, household) else []
    content = documents.appraisal_forms_pdf([appraisal], full_id_for=full)
    name = _("Appraisal form %(head)s %(date)s") % {"head": household.head_name, "date": appraisal.appraised_on}
    return pdf_response(content, f"{name}.pdf")


@page(permission="inspections.add_appraisal")
def blank_appraisal_form(request):
    return pdf_response(documents.blank_forms_pdf(), _("Blank appraisal form") + ".pdf")


@page(methods=POST, permission=VIEW)
def village_appraisal_forms(request, pk: int):
    """A village's forms (the current appraisal of each house), laid out in the background; its page follows. For
    those whose scope is the village's whole township (its staff, the bureau): a liaison or a helper, who see some
    households only, get a 404."""
    village = get_object_or_404(villages_for_user(request.user), pk=pk)
    if not scope_of(request.user).covers_township(village.township_id):
        raise Http404
    count = selectors.village_current_appraisals(request.user, village.pk).count()
    back = f"{reverse('inspections:field')}?village={village.pk}"
    if not count:
        messages.info(request, _("No house in %(village)s has an appraisal to print.") % {"village": village.name})
        return redirect(back)
    job = printing.start(
        user=request.user,
        kind=documents.PRINT_KIND,
        title=_("Appraisal forms of %(village)s (%(count)s)") % {"village": village.name, "count": count},
        params={"village": village.pk, "back": back},
        total=count,
    )
    return redirect(printing.job_url(job))
