"""Pages of the province's list of base villages: load and preview it, confirm it, and the survey's progress."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Village
from housing_safety.dates import PlausibleYear
from housing_safety.pagination import BoundedPaginator
from housing_safety.web import GET_POST, POST, page, run_form

from . import base_villages
from .models import BaseVillageRegistration, Campaign, Revisit

REGISTRATIONS_SHOWN = 50


class BaseVillageListForm(forms.Form):
    year = forms.IntegerField(
        label=gettext_lazy("Year the villages were named"),
        validators=[PlausibleYear(1949, ahead=1)],
        help_text=gettext_lazy("A village already on the list keeps the year it was first named."),
    )
    batch = forms.CharField(
        label=gettext_lazy("Batch or document"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("For example: 省定31个革命基点村."),
    )
    file = forms.FileField(label=gettext_lazy("The province's list (.xlsx or .csv: village code and name)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year


@page(methods=GET_POST, permission=base_villages.VIEW)
def base_village_index(request):
    """The base villages now marked, the survey's progress in each, the lists loaded, and the upload."""
    may_import = request.user.has_perm(base_villages.IMPORT)
    form = BaseVillageListForm(request.POST or None, request.FILES or None) if may_import else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        loaded = run_form(
            form,
            lambda f: base_villages.preview_list(
                actor=request.user, year=f.cleaned_data["year"], batch=f.cleaned_data["batch"],
                uploaded_file=f.cleaned_data["file"],
            ),
            request=request,
        )  # fmt: skip
        if loaded is not None:
            return redirect("inspections:base-village-list", pk=loaded.pk)
    campaign = Campaign.objects.filter(schedule_key=base_villages.SCHEDULE_KEY).first()
    villages = list(Village.objects.filter(is_revolutionary_base_village=True).select_related("township"))
    progress: dict = {}
    if campaign is not None:
        rows = (
            Revisit.objects.filter(campaign=campaign)
            .values("dwelling__household__village_id")
            .annotate(
                houses=Count("pk"),
                done=Count("pk", filter=Q(status=Revisit.Status.DONE)),
                dangerous=Count("pk", filter=Q(assessed_grade__in=["C", "D"])),
            )
            .order_by()
        )
        progress = {row.pop("dwelling__household__village_id"): row for row in rows}
    registered = dict(
        BaseVillageRegistration.objects.values_list("household__village_id").annotate(n=Count("pk")).order_by()
    )
    empty = {"houses": 0, "done": 0, "dangerous": 0}
    for village in villages:
        village.progress = {**progress.get(village.pk, empty), "registered": registered.get(village.pk, 0)}
    lists = BoundedPaginator(base_villages.lists_for_user(request.user), 20).get_page(request.GET.get("page"))
    # The audit of 建档立卡 by the survey: who was registered, on which finding, by whom (the newest first).
    registrations = BaseVillageRegistration.objects.select_related(
        "household__village__township", "dwelling", "registered_by", "revisit", "appraisal"
    )[:REGISTRATIONS_SHOWN]
    context = {
        "form": form, "villages": villages, "campaign": campaign, "page": lists, "registrations": registrations,
    }  # fmt: skip
    return render(request, "inspections/base_villages.html", context)


@page(permission=base_villages.VIEW)
def base_village_list(request, pk: int):
    """One loaded list: its rows as read, each refused row with the reason, and what confirming would change."""
    base_list = get_object_or_404(base_villages.lists_for_user(request.user), pk=pk)
    may_confirm = (
        request.user.has_perm(base_villages.IMPORT)
        and base_list.status == base_list.Status.PREVIEWED
        and not base_list.refused
    )
    context = {"base_list": base_list, "counts": base_list.counts, "may_confirm": may_confirm}
    return render(request, "inspections/base_village_list.html", context)


@page(methods=POST, permission=base_villages.IMPORT)
def base_village_confirm(request, pk: int):
    base_list = get_object_or_404(base_villages.lists_for_user(request.user), pk=pk)
    try:
        done = base_villages.confirm_list(actor=request.user, base_list=base_list)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("inspections:base-village-list", pk=base_list.pk)
    messages.success(
        request,
        _(
            "Confirmed: %(marked)s villages marked, %(unmarked)s no longer base villages; %(revisits)s houses added "
            "to the survey."
        )
        % done,
    )
    return redirect("inspections:base-villages")
