"""Pages for partner departments' lists: upload and preview, confirm, the rows to fix, and reconciliation."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from housing_safety import background
from housing_safety.access import can_view_personal_data
from housing_safety.excel import xlsx_response
from housing_safety.pagination import BoundedPaginator

from . import department_lists as lists
from .identity import mask_id_number, mask_phone
from .models import DepartmentList, Household, HouseholdCategory, ListRow, Unit, Village
from .tasks import read_department_list

VIEW = "households.view_departmentlist"
SHOWN = ("changed", "new", "suggested", "invalid", "missing", "unchanged")


class UploadForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), label=gettext_lazy("Department"))
    listed_on = forms.DateField(
        label=gettext_lazy("Date of the list"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("New households are registered on this date."),
    )  # fmt: skip
    file = forms.FileField(label=gettext_lazy("The list (.xlsx or .csv)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = lists.units_for_import(user)
        if self.fields["unit"].queryset.count() == 1:
            self.fields["unit"].initial = self.fields["unit"].queryset.get()
        self.fields["listed_on"].initial = timezone.localdate()


@login_required
@permission_required(VIEW, raise_exception=True)
def list_index(request):
    may_upload = request.user.has_perm(lists.IMPORT)
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user) if may_upload else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data["file"]
            # Small files are compared at once; large ones in the background while the page shows the progress.
            read = lists.preview_list if upload.size <= settings.LIST_INLINE_MAX_BYTES else lists.start_preview
            try:
                uploaded = read(
                    actor=request.user, unit=form.cleaned_data["unit"], listed_on=form.cleaned_data["listed_on"],
                    uploaded_file=upload,
                )  # fmt: skip
                return redirect("households:list", pk=uploaded.pk)
            except ValidationError as error:
                for name, errors in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
    page = BoundedPaginator(lists.lists_for_user(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "households/list_index.html", {"form": form, "page": page})


def _masked(row, personal: bool):
    row.shown_id = row.id_number if personal else mask_id_number(row.id_number)
    row.shown_phone = row.phone if personal else mask_phone(row.phone)
    return row


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def list_detail(request, pk: int):
    """The comparison: counts, then one kind of row at a time (50 per page)."""
    department_list = get_object_or_404(lists.lists_for_user(request.user), pk=pk)
    show = request.GET.get("show") if request.GET.get("show") in SHOWN else "changed"
    personal = can_view_personal_data(request.user)
    if show == "missing":
        rows = lists.missing_households(department_list).select_related("village__township").order_by("pk")
    else:
        rows = department_list.rows.filter(outcome=show).select_related(
            "village__township", "household__village", "suggested__village"
        )
    page = BoundedPaginator(rows, 50).get_page(request.GET.get("page"))
    for row in page:
        _masked(row, personal)
    if show != "missing":
        _describe_changes(page, personal)
    context = {
        "department_list": department_list,
        "counts": department_list.counts,
        "show": show,
        "tabs": [(name, _label(name), department_list.counts.get(name, 0)) for name in SHOWN],
        "page": page,
        "may_confirm": department_list.status == DepartmentList.Status.PREVIEWED
        and lists.units_for_import(request.user).filter(pk=department_list.unit_id).exists(),
        # The broker refused the reading task: say why the progress does not move (it starts with the retry).
        "broker_down": department_list.status == DepartmentList.Status.READING
        and background.is_waiting(read_department_list, department_list.pk)
        and background.BROKER_DOWN_MESSAGE,
    }
    return render(request, "households/list_detail.html", context)


def _describe_changes(rows, personal: bool) -> None:
    """Each row's changes as people read them: village and department names, category labels, masked numbers."""
    villages, units = set(), set()
    for row in rows:
        villages.update(row.changes.get("village", []))
        units.update(row.changes.get("source", []))
    village_names = {v.pk: f"{v.township.name} {v.name}" for v in Village.objects.filter(pk__in=villages - {None})}
    unit_names = dict(Unit.objects.filter(pk__in=units - {None}).values_list("pk", "name"))
    categories = dict(HouseholdCategory.Code.choices)
    statuses = dict(Household.Status.choices)
    shown = {
        "village": village_names.get,
        "source": unit_names.get,
        "categories": lambda codes: "、".join(str(categories.get(code, code)) for code in codes or []),
        "status": lambda value: str(statuses.get(value, value)),
        "phone": (lambda value: value) if personal else mask_phone,
    }
    labels = lists.FIELD_LABELS | {"source": _("Source"), "status": _("Status"), "village": _("Village")}
    for row in rows:
        row.shown_changes = [
            (
                labels.get(name, name),
                *(shown.get(name, str)(value) if value not in (None, "") else "–" for value in pair),
            )
            for name, pair in row.changes.items()
        ]


def _label(name: str) -> str:
    if name == "missing":
        return _("Only on our list")
    return str(ListRow.Outcome(name).label)


@require_POST
@login_required
@permission_required(lists.IMPORT, raise_exception=True)
def list_confirm(request, pk: int):
    department_list = get_object_or_404(lists.lists_for_user(request.user), pk=pk)
    accepted = [int(value) for value in request.POST.getlist("accept") if value.isdigit()]
    try:
        applied = lists.confirm_list(actor=request.user, department_list=department_list, accepted=accepted)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Confirmed: %(created)s households created, %(updated)s updated, %(categories)s categories added.")
            % {"created": applied["created"], "updated": applied["updated"], "categories": applied["categories_added"]},
        )
    return redirect("households:list", pk=department_list.pk)


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def list_invalid_rows(request, pk: int):
    department_list = get_object_or_404(lists.lists_for_user(request.user), pk=pk)
    content = lists.invalid_rows_workbook(department_list, request.user)
    return xlsx_response(content, f"rows-to-fix-{department_list.pk}.xlsx")


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def reconciliation(request):
    """Per department, its latest list against our records, per township (信息比对)."""
    return render(request, "households/reconciliation.html", {"report": lists.reconciliation(request.user)})


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def reconciliation_export(request):
    content = lists.reconciliation_workbook(request.user)
    return xlsx_response(content, f"reconciliation-{timezone.localdate():%Y-%m-%d}.xlsx")
