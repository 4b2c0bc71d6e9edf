"""Pages for partner departments' lists: upload and preview, confirm, the rows to fix, and reconciliation."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from housing_safety import background, disclosure
from housing_safety.access import scope_of
from housing_safety.excel import xlsx_response
from housing_safety.pagination import BoundedPaginator
from housing_safety.web import GET_POST, POST, page, run_form

from . import department_lists as lists
from . import documents, services
from .identity import mask_id_number, mask_name, mask_phone
from .models import ChangeProposal, DepartmentList, Household, HouseholdCategory, ListRow, Unit, Village
from .selectors import proposals_for_user
from .tasks import read_department_list

VIEW = "households.view_departmentlist"
SHOWN = ("changed", "new", "registered", "suggested", "invalid", "missing", "unchanged")


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


@page(methods=GET_POST, permission=VIEW)
def list_index(request):
    may_upload = request.user.has_perm(lists.IMPORT)
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user) if may_upload else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        uploaded = run_form(form, lambda f: _read_list(request, f), request=request)
        if uploaded is not None:
            return redirect("households:list", pk=uploaded.pk)
    page = BoundedPaginator(lists.lists_for_user(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "households/list_index.html", {"form": form, "page": page})


def _read_list(request, form) -> DepartmentList:
    """Small files are compared at once; large ones in the background while the page shows the progress."""
    data = form.cleaned_data
    read = lists.preview_list if data["file"].size <= settings.LIST_INLINE_MAX_BYTES else lists.start_preview
    return read(actor=request.user, unit=data["unit"], listed_on=data["listed_on"], uploaded_file=data["file"])


def _masked(request, row, household):
    """Numbers masked for every role, the bureau included; shown in full once the user has opened the household
    they belong to with a reason (the usual logged unmask)."""
    full = household is not None and disclosure.is_unmasked(request, household)
    row.shown_id = row.id_number if full else mask_id_number(row.id_number)
    row.shown_phone = row.phone if full else mask_phone(row.phone)
    row.unmask_url = disclosure.unmask_url(request, household) if household is not None else ""
    return full


@page(permission=VIEW)
def list_detail(request, pk: int):
    """The comparison: counts, then one kind of row at a time (50 per page)."""
    department_list = get_object_or_404(lists.lists_for_user(request.user), pk=pk)
    show = request.GET.get("show") if request.GET.get("show") in SHOWN else "changed"
    if show == "missing":
        rows = lists.missing_households(department_list).select_related("village__township").order_by("pk")
    else:
        rows = department_list.rows.filter(outcome=show).select_related(
            "village__township", "household__village__township", "suggested__village__township"
        )
    page = BoundedPaginator(rows, 50).get_page(request.GET.get("page"))
    own = department_list.unit_id == scope_of(request.user).unit_id or scope_of(request.user).everything
    for row in page:
        household = row if show == "missing" else (row.household or row.suggested)
        full = _masked(request, row, household)
        if show != "missing" and household is not None and household.source_id != department_list.unit_id:
            # Registered by a township or another department: the department learns only that, not our values.
            row.elsewhere = f"{mask_name(household.head_name)} · {household.village.township.name}"
        row.full = full
    if show != "missing":
        describe_changes(page, lambda row: row.full)
        describe_changes(page, lambda row: row.full, "proposed")
    context = {
        "department_list": department_list,
        "counts": department_list.counts,
        "show": show,
        "tabs": [(name, _label(name), department_list.counts.get(name, 0)) for name in SHOWN],
        "page": page,
        "bureau": scope_of(request.user).everything,
        "may_confirm": department_list.status == DepartmentList.Status.PREVIEWED
        and lists.units_for_import(request.user).filter(pk=department_list.unit_id).exists(),
        "own": own,
        # The broker refused the reading task: say why the progress does not move (it starts with the retry).
        "broker_down": department_list.status == DepartmentList.Status.READING
        and background.is_waiting(read_department_list, department_list.pk)
        and background.BROKER_DOWN_MESSAGE,
    }
    return render(request, "households/list_detail.html", context)


def describe_changes(records, full_numbers, attribute: str = "changes", current=None) -> None:
    """Each record's changes as people read them (`shown_<attribute>`: label, before, after): village and department
    names, category labels, phones masked unless `full_numbers(record)`. `current(record)` gives the values now in
    place of the recorded "before"."""
    villages, units = set(), set()
    for record in records:
        changes = getattr(record, attribute)
        villages.update(changes.get("village", []))
        units.update(changes.get("source", []))
        if current:
            villages.add(current(record).get("village"))
            units.add(current(record).get("source"))
    village_names = {v.pk: f"{v.township.name} {v.name}" for v in Village.objects.filter(pk__in=villages - {None})}
    unit_names = dict(Unit.objects.filter(pk__in=units - {None}).values_list("pk", "name"))
    categories = dict(HouseholdCategory.Code.choices)
    statuses = dict(Household.Status.choices)
    labels = lists.FIELD_LABELS | {"source": _("Source"), "status": _("Status"), "village": _("Village")}
    for record in records:
        shown = {
            "village": village_names.get,
            "source": unit_names.get,
            "categories": lambda codes: "、".join(str(categories.get(code, code)) for code in codes or []),
            "status": lambda value: str(statuses.get(value, value)),
            "poverty_status": lambda value: str(dict(Household.PovertyStatus.choices).get(value, value)),
            "phone": (lambda value: value) if full_numbers(record) else mask_phone,
        }
        changes = getattr(record, attribute)
        now = current(record) if current else {}
        shown_pairs = [
            (
                labels.get(name, name),
                *(
                    shown.get(name, str)(value) if value not in (None, "") else "–"
                    for value in (now.get(name, before) if current else before, after)
                ),
            )
            for name, (before, after) in changes.items()
        ]
        setattr(record, f"shown_{attribute}", shown_pairs)


def _label(name: str) -> str:
    if name == "missing":
        return _("Only on our list")
    return str(ListRow.Outcome(name).label)


@page(methods=POST, permission=lists.IMPORT)
def list_confirm(request, pk: int):
    department_list = get_object_or_404(lists.lists_for_user(request.user), pk=pk)
    accepted = [
        int(value)
        for value in request.POST.getlist("accept")
        if value.isascii() and value.isdigit() and len(value) < 10
    ]
    try:
        applied = lists.confirm_list(actor=request.user, department_list=department_list, accepted=accepted)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        done = {"created": applied["created"], "updated": applied["updated"]}
        if scope_of(request.user).everything:
            message = _(
                "Confirmed: %(created)s households created, %(updated)s updated, %(categories)s categories added, "
                "%(proposals)s change proposals sent to the townships."
            ) % {**done, "categories": applied["categories_added"], "proposals": applied["proposals"]}
        else:
            # Not how many categories or proposals: for households registered elsewhere that would tell the
            # department what our records hold.
            message = _("Confirmed: %(created)s households created, %(updated)s of your own updated.") % done
            registered = department_list.counts.get(ListRow.Outcome.REGISTERED, 0)
            if registered:
                message += " " + _(
                    "Your categories are added to the %(registered)s households registered elsewhere; other "
                    "differences go to their townships."
                ) % {"registered": registered}
        messages.success(request, message)
    return redirect("households:list", pk=department_list.pk)


@page(permission=VIEW)
def list_invalid_rows(request, pk: int):
    department_list = get_object_or_404(lists.lists_for_user(request.user), pk=pk)
    content = documents.invalid_rows_workbook(department_list, request.user)
    return xlsx_response(content, f"rows-to-fix-{department_list.pk}.xlsx")


@page(permission=VIEW)
def reconciliation(request):
    """Per department, its latest list against our records, per township (信息比对)."""
    return render(request, "households/reconciliation.html", {"report": lists.reconciliation(request.user)})


@page(permission=VIEW)
def reconciliation_export(request):
    content = documents.reconciliation_workbook(request.user)
    return xlsx_response(content, f"reconciliation-{timezone.localdate():%Y-%m-%d}.xlsx")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", gettext_lazy("Accept")), ("reject", gettext_lazy("Reject"))])
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)


def _current(household: Household) -> dict:
    return {
        "head_name": household.head_name, "phone": household.phone, "members_count": household.members_count,
        "village": household.village_id, "status": household.status, "source": household.source_id,
    }  # fmt: skip


@page(permission="households.change_household")
def proposal_list(request):
    """The change proposals of departments' lists for the user's township(s): what the household's record holds
    now beside what the list says, to accept or reject with a reason (20 per page); `?show=decided` for the record."""
    show = "decided" if request.GET.get("show") == "decided" else "pending"
    proposals = proposals_for_user(request.user)
    pending = proposals.filter(status=ChangeProposal.Status.PENDING)
    shown = pending if show == "pending" else proposals.exclude(status=ChangeProposal.Status.PENDING)
    page = BoundedPaginator(shown.order_by("-decided_at", "-pk") if show == "decided" else shown, 20).get_page(
        request.GET.get("page")
    )
    for proposal in page:
        proposal.full = disclosure.is_unmasked(request, proposal.household)
        proposal.unmask_url = disclosure.unmask_url(request, proposal.household)
    describe_changes(page, lambda proposal: proposal.full, current=lambda proposal: _current(proposal.household))
    context = {"page": page, "show": show, "pending": pending.count(), "form": DecisionForm()}
    return render(request, "households/proposals.html", context)


@page(methods=POST, permission="households.change_household")
def proposal_decide(request, pk: int):
    proposal = get_object_or_404(proposals_for_user(request.user), pk=pk)
    form = DecisionForm(request.POST)
    decided = run_form(
        form,
        lambda f: services.decide_change_proposal(
            actor=request.user,
            proposal=proposal,
            accept=f.cleaned_data["decision"] == "accept",
            reason=f.cleaned_data["reason"],
        ),
    )
    if decided is None:  # the form sits on the list of proposals: its refusals are a message there
        messages.error(request, " ".join(" ".join(errors) for errors in form.errors.values()))
    else:
        accepted = form.cleaned_data["decision"] == "accept"
        messages.success(
            request,
            (_("Accepted: %(name)s's record is updated.") if accepted else _("Rejected: %(name)s's record stays."))
            % {"name": proposal.household.head_name},
        )
    return redirect("households:proposals")
