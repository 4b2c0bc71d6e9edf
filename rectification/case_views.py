"""Renovation case pages: the list with progress per step, dangerous houses without a case, opening a case, the
case page with its timeline, archive and moves, the archive ZIP, and the bureau's archive and subsidy overviews."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from households.identity import mask_id_number
from households.selectors import dwellings_for_user, townships_for_user
from housing_safety import disclosure, printing
from housing_safety.access import can_view_personal_data, scope_of
from housing_safety.pagination import BoundedPaginator
from housing_safety.params import area_lookups, int_param, year_param
from housing_safety.pdf import join_pdfs, pdf_response
from housing_safety.web import GET_POST, POST, page, run_form
from housing_safety.workflow import permits

from . import paper, selectors, services
from .documents import case_archive
from .forms import (
    CaseDocumentsForm,
    CaseMoveForm,
    CaseOpenForm,
    ConstructionCheckForm,
    NewDwellingForm,
    SupplementaryPaymentForm,
)
from .models import CASE_STEPS, CLOSED_CASE_STATUSES, CaseStatus, DocumentKind, RenovationCase

VIEW = "rectification.view_renovationcase"
INCOMPLETE_SHOWN = 200


@page(permission=VIEW)
def case_list(request):
    cases = selectors.cases_for_user(request.user)
    status, year, township = request.GET.get("status", ""), year_param(request.GET), int_param(request.GET, "township")
    stalled = request.GET.get("stalled") == "1"
    if status == "open":  # the dashboard's figure: every case not yet closed
        cases = cases.exclude(status__in=CLOSED_CASE_STATUSES)
    elif status in CaseStatus.values:
        cases = cases.filter(status=status)
    if year is not None:
        cases = cases.filter(programme_year=year)
    if township is not None:
        cases = cases.filter(township_id=township)
    cases = cases.filter(**area_lookups(request.GET, township="", village="household__village_id"))
    if stalled:
        cases = selectors.stalled_cases(cases)
    if request.GET.get("late") == "plan":  # the late list: new households' renovations past the plan's 30 June
        cases = cases.filter(selectors.renovation_plan_overdue())
    context = {
        "page": BoundedPaginator(cases.order_by("township_id", "number"), 50).get_page(request.GET.get("page")),
        "statuses": CaseStatus.choices,
        "status": status,
        "year": year or "",
        "stalled": stalled,
        "stalled_count": selectors.stalled_cases(selectors.cases_for_user(request.user)).count(),
        "progress": selectors.progress_by_township(request.user),
        "show_townships": scope_of(request.user).everything,
    }
    return render(request, "rectification/case_list.html", context)


@page(permission=VIEW)
def dangerous_without_case(request):
    # In the order households were registered (by village, as lists arrive): a partial index on the dangerous
    # dwellings serves the page without sorting the province.
    dwellings = selectors.dangerous_without_case_for_user(request.user).order_by("household_id", "pk")
    late = request.GET.get("late") == "1"  # the late list: no action within DANGEROUS_ACTION_DAYS (即行整改)
    if late:
        dwellings = dwellings.filter(selectors.dangerous_action_overdue())
    dwellings = selectors.with_action_due(dwellings).filter(
        **area_lookups(request.GET, township="household__village__township_id", village="household__village_id")
    )
    page = BoundedPaginator(dwellings, 50).get_page(request.GET.get("page"))
    for dwelling in page:
        dwelling.action_due = selectors.action_due_on(dwelling.graded_on) if dwelling.graded_on else None
    context = {"page": page, "late": late, "days": settings.DANGEROUS_ACTION_DAYS}
    return render(request, "rectification/dangerous_without_case.html", context)


@page(methods=GET_POST, permission="rectification.add_renovationcase")
def case_new(request):
    dwelling = get_object_or_404(
        dwellings_for_user(request.user).select_related("household__village__township"),
        pk=int_param(request.GET, "dwelling") or 0,
    )
    existing = selectors.open_cases(selectors.cases_for_user(request.user)).filter(dwelling=dwelling).first()
    if existing is not None:
        messages.info(request, _("This dwelling already has an open renovation case."))
        return redirect("rectification:case", pk=existing.pk)
    form = CaseOpenForm(request.POST or None, request.FILES or None, user=request.user)
    form.instance.dwelling = dwelling
    case = run_form(
        form,
        lambda f: services.open_case(
            actor=request.user,
            case=f.instance,
            applied_on=f.cleaned_data["applied_on"],
            documents=f.documents(),
            override_reason=f.cleaned_data.get("override_reason", ""),
        ),
        request=request,
    )
    if case is not None:
        messages.success(request, _("Renovation case %(number)s was opened.") % {"number": case.number})
        return redirect("rectification:case", pk=case.pk)
    return render(request, "rectification/case_new.html", {"form": form, "dwelling": dwelling})


def _case_page(request, case: RenovationCase, bound=None, status: int = 200):
    """The case page; `bound` is a form that failed, shown in place of its empty twin."""
    user = request.user
    move_forms = [CaseMoveForm(case=case, to=to, user=user) for to in services.CASE_MOVES.allowed(case, user)]
    if isinstance(bound, CaseMoveForm):
        move_forms = [bound if form.to == bound.to else form for form in move_forms]
    following = CASE_STEPS[CASE_STEPS.index(case.status) + 1] if case.status in CASE_STEPS[:-1] else None
    waiting_for = CaseStatus(following).label if following and following not in [f.to for f in move_forms] else None
    documents = case.documents.select_related("kind", "attachment__uploaded_by")
    by_kind: dict[int, list] = {}
    for document in documents:
        by_kind.setdefault(document.kind_id, []).append(document)
    completeness = selectors.archive_completeness(RenovationCase.objects.filter(pk=case.pk))[case.pk]
    missing = {kind.pk for kind in completeness["missing"]}
    reached = case.reached_steps()
    archive = [
        {
            "step": label,
            "kinds": [
                {"kind": kind, "files": by_kind.get(kind.pk, []), "missing": kind.pk in missing}
                for kind in DocumentKind.objects.filter(step=value)
            ],
            "reached": value in reached,
        }
        for value, label in CaseStatus.choices
        if value in CASE_STEPS
    ]
    archive = [group for group in archive if group["kinds"]]
    other = {
        "documents": bound if isinstance(bound, CaseDocumentsForm) else CaseDocumentsForm(),
        "check": bound if isinstance(bound, ConstructionCheckForm) else ConstructionCheckForm(),
        "dwelling": bound if isinstance(bound, NewDwellingForm) else NewDwellingForm(),
        "supplement": bound if isinstance(bound, SupplementaryPaymentForm) else SupplementaryPaymentForm(),
    }
    renovation = services.renovation
    shown = {  # each form when its service would take it up (the service's check_*)
        CaseDocumentsForm: permits(renovation.check_case_documents, user, case),
        ConstructionCheckForm: permits(renovation.check_construction_check, user, case),
        NewDwellingForm: permits(renovation.check_new_dwelling, user, case),
        SupplementaryPaymentForm: permits(renovation.check_supplementary_payment, user, case),
    }
    if bound is not None and not shown.get(type(bound), True):
        # The form's section is no longer offered (the case moved on meanwhile): say why on top of the page.
        for errors in bound.errors.values():
            for message in errors:
                messages.error(request, message)
    context = {
        "case": case,
        "household": case.household,
        "id_number": case.household.id_number
        if disclosure.is_unmasked(request, case.household)
        else mask_id_number(case.household.id_number),
        "unmask_url": disclosure.unmask_url(request, case.household),
        "transitions": case.transitions.select_related("actor"),
        "payments": case.payments.select_related("recorded_by"),
        "archive": archive,
        "completeness": completeness,
        "move_forms": move_forms,
        "waiting_for": waiting_for,
        "forms": other,
        "can_add_documents": shown[CaseDocumentsForm],
        "can_check": shown[ConstructionCheckForm],
        "can_register_dwelling": shown[NewDwellingForm],
        "can_supplement": shown[SupplementaryPaymentForm],
        "can_export": can_view_personal_data(user),
        "stalled": selectors.stalled_cases(RenovationCase.objects.filter(pk=case.pk)).exists(),
        "today": timezone.localdate(),
    }
    return render(request, "rectification/case_detail.html", context, status=status)


def _get_case(request, pk: int) -> RenovationCase:
    return get_object_or_404(
        selectors.cases_for_user(request.user).select_related("trigger_appraisal", "new_dwelling", "created_by"),
        pk=pk,
    )


@page(permission=VIEW)
def case_detail(request, pk: int):
    return _case_page(request, _get_case(request, pk))


def _handle(request, case, form, action, success: str):
    """Validate `form`, run `action(form)`; on a refusal show the case page with the form's errors (nothing
    was changed), on success redirect back to the case."""
    if run_form(form, action, request=request) is not None:
        messages.success(request, success)
        return redirect("rectification:case", pk=case.pk)
    return _case_page(request, case, bound=form, status=400)


@page(methods=POST, permission=VIEW)
def case_move(request, pk: int):
    case = _get_case(request, pk)
    to = request.POST.get("to", "")
    if to not in CaseStatus.values:
        messages.error(request, _("Unknown step."))
        return redirect("rectification:case", pk=case.pk)
    try:  # e.g. a second click after someone else's move
        services.CASE_MOVES.permission(case, to)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("rectification:case", pk=case.pk)
    form = CaseMoveForm(request.POST, request.FILES, case=case, to=to, user=request.user)
    success = _("The case is now at “%(step)s”.") % {"step": CaseStatus(to).label}
    if to in paper.POSTED_STEPS:
        success += _(" Its posting notice is filed in the archive; print it from the posting dates below.")
    return _handle(
        request, case, form, lambda f: services.move_case(actor=request.user, case=case, to=to, **f.step()), success
    )


@page(methods=POST, permission=VIEW)
def case_documents(request, pk: int):
    case = _get_case(request, pk)
    form = CaseDocumentsForm(request.POST, request.FILES)
    return _handle(
        request, case, form,
        lambda f: services.add_case_documents(actor=request.user, case=case, documents=f.documents()),
        _("The documents were filed."),
    )  # fmt: skip


@page(methods=POST, permission=VIEW)
def case_check(request, pk: int):
    case = _get_case(request, pk)
    form = ConstructionCheckForm(request.POST, request.FILES)
    quality = DocumentKind.objects.filter(code="quality_record").first() or DocumentKind.objects.get(
        code="photo_during"
    )
    return _handle(
        request, case, form,
        lambda f: services.record_construction_check(
            actor=request.user, case=case, on=f.cleaned_data["on"], note=f.cleaned_data["note"],
            documents=[(quality, photo) for photo in f.cleaned_data["photos"]],
        ),
        _("The construction check was recorded."),
    )  # fmt: skip


@page(methods=POST, permission=VIEW)
def case_new_dwelling(request, pk: int):
    case = _get_case(request, pk)
    form = NewDwellingForm(request.POST)
    return _handle(
        request, case, form,
        lambda f: services.register_new_dwelling(actor=request.user, case=case, dwelling=f.instance),
        _("The new dwelling was registered."),
    )  # fmt: skip


@page(methods=POST, permission=VIEW)
def case_supplement(request, pk: int):
    case = _get_case(request, pk)
    form = SupplementaryPaymentForm(request.POST)
    return _handle(
        request, case, form,
        lambda f: services.record_supplementary_payment(actor=request.user, case=case, **f.cleaned_data),
        _("The supplementary payment was recorded."),
    )  # fmt: skip


@page(permission=VIEW)
def case_archive_zip(request, pk: int):
    """The household archive for the paper file: every document, and an index workbook (documents, steps, case).

    Identity documents are inside, so only roles that may see personal data may export it.
    """
    if not can_view_personal_data(request.user):
        raise PermissionDenied
    case = _get_case(request, pk)
    documents = _archive_documents(case)
    disclosure.log_export(
        user=request.user, name=_("Archive of case %(number)s") % {"number": case.number}, rows=len(documents),
        ip_address=disclosure.client_ip(request),
    )  # fmt: skip
    folder = paper.archive_folder_pdfs(case, documents)  # the cover and contents for the paper folder, ID masked
    response = HttpResponse(case_archive(case, documents, folder=folder), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{case.number}.zip"'
    return response


def _archive_documents(case: RenovationCase) -> list:
    return list(case.documents.select_related("kind", "attachment__uploaded_by").order_by("kind__order", "pk"))


@page(permission=VIEW)
def case_folder(request, pk: int):
    """The paper folder's cover and contents list (一户一档) as one PDF; the head's ID number as the case page shows
    it (in full only after the logged unmask)."""
    case = _get_case(request, pk)
    full = disclosure.is_unmasked(request, case.household)
    cover, contents = paper.archive_folder_pdfs(case, _archive_documents(case), full_id_number=full)
    name = _("Archive cover and contents %(number)s") % {"number": case.number}
    return pdf_response(join_pdfs([cover, contents]), f"{name}.pdf")


@page(permission=VIEW)
def case_posting(request, pk: int):
    """The posting notice (公示) of the case's village assessment or township review (?step=), with the cases
    posted with it; a step the case has no posting period for is a 404."""
    case = _get_case(request, pk)
    step = request.GET.get("step", CaseStatus.VILLAGE_ASSESSED)
    if step not in paper.POSTED_STEPS or getattr(case, paper.POSTED_STEPS[step][0]) is None:
        raise Http404
    posted = list(paper.posting_cases(selectors.cases_for_user(request.user), case, step))
    content = paper.posting_notice_pdf(case, step, posted)
    name = _("Posting notice %(number)s") % {"number": case.number}
    return pdf_response(content, f"{name}.pdf")


@page(permission=VIEW)
def archive_overview(request):
    cases = selectors.cases_for_user(request.user)
    completeness = selectors.archive_completeness(cases)
    township = int_param(request.GET, "township")
    wanting = [pk for pk, row in completeness.items() if row["missing"] and township in (None, row["township_id"])]
    # The oldest cases with gaps first (at most INCOMPLETE_SHOWN; the count says how many there are).
    shown = cases.filter(pk__in=sorted(wanting)[:INCOMPLETE_SHOWN]).order_by("township__code", "number")
    return render(
        request,
        "rectification/archive_overview.html",
        {
            "rows": selectors.archive_by_township(request.user, completeness),
            "incomplete": [(case, completeness[case.pk]) for case in shown],
            "shown_count": min(len(wanting), INCOMPLETE_SHOWN),
            "incomplete_count": len(wanting),
        },
    )


@page(methods=POST, permission=VIEW)
def township_folders(request, pk: int):
    """A township's archive covers and contents lists (一户一档), laid out in the background; its page follows. For
    those whose scope is the whole township (its staff, the bureau)."""
    township = get_object_or_404(townships_for_user(request.user), pk=pk)
    if not scope_of(request.user).covers_township(township.pk):
        raise Http404
    count = selectors.cases_for_user(request.user).filter(township=township).count()
    back = reverse("rectification:archive")
    if not count:
        messages.info(request, _("%(township)s has no renovation case to print.") % {"township": township.name})
        return redirect(back)
    job = printing.start(
        user=request.user,
        kind=paper.FOLDERS_PRINT_KIND,
        title=_("Archive covers and contents of %(township)s (%(count)s)")
        % {"township": township.name, "count": count},
        params={"township": township.pk, "back": back},
        total=count,
    )
    return redirect(printing.job_url(job))


@page(permission=VIEW)
def subsidy_overview(request):
    rows = selectors.subsidy_totals(request.user)
    years: dict[int, dict] = {}
    for row in rows:
        total = years.setdefault(row["year"], {"year": row["year"], "cases": 0, "planned": 0, "paid": 0})
        for key in ("cases", "planned", "paid"):
            total[key] += row[key]
    return render(
        request,
        "rectification/subsidy_overview.html",
        {"rows": rows, "years": list(years.values()), "townships": townships_for_user(request.user)},
    )
