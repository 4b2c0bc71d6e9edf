"""Complaint pages: the clerk's intake, the list with overdue ones, one complaint with its steps, the Excel export
(reporter masked unless the role may see it), the public progress lookup, and leads with the quarterly report."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.decorators import ratelimit

from households.identity import mask_name, mask_phone
from households.selectors import attachments_for_user
from housing_safety import disclosure
from housing_safety.excel import xlsx_response
from housing_safety.pagination import BoundedPaginator
from housing_safety.params import area_lookups, int_param, year_param
from housing_safety.web import GET_POST, POST, page, run_form
from housing_safety.workdays import last_known_year
from housing_safety.workflow import permits

from . import documents, selectors, services
from .forms import (
    ComplaintForm,
    ComplaintMoveForm,
    ComplaintProblemForm,
    LeadFeedbackForm,
    LeadForm,
    LeadReceiptForm,
    LookupForm,
)
from .models import Complaint, ComplaintStatus

VIEW = "rectification.view_complaint"


def reporter_of(complaint: Complaint, *, full: bool = False) -> tuple[str, str]:
    """(name, phone): masked unless `full`, i.e. the complaint desk opened this reporter with a reason
    (housing_safety.disclosure) or exports with full numbers."""
    if complaint.is_anonymous:
        return _("Anonymous"), ""
    if full:
        return complaint.reporter_name, complaint.reporter_phone
    return mask_name(complaint.reporter_name) if complaint.reporter_name else "", mask_phone(complaint.reporter_phone)


def _filtered(request):
    complaints = selectors.complaints_for_user(request.user)
    status, show = request.GET.get("status", ""), request.GET.get("show", "")
    complaints = selectors.search_complaints(request.user, complaints, request.GET.get("q", "")[:100])
    if status == "open":
        complaints = complaints.filter(status__in=[s for s in ComplaintStatus.values if s not in _ENDED])
    elif status in ComplaintStatus.values:
        complaints = complaints.filter(status=status)
    if show == "overdue":
        complaints = selectors.overdue_complaints(complaints)
    elif show == "mine":
        complaints = complaints.filter(handler=request.user)
    complaints = complaints.filter(**area_lookups(request.GET, township="township_id", village="village_id"))
    return complaints.order_by("-received_at", "-pk"), status, show


_ENDED = (ComplaintStatus.CLOSED, ComplaintStatus.NOT_ACCEPTED, ComplaintStatus.TRANSFERRED, ComplaintStatus.ESCALATED)


@page(permission=VIEW)
def complaint_list(request):
    complaints, status, show = _filtered(request)
    page = BoundedPaginator(complaints, 50).get_page(request.GET.get("page"))
    rows = [(complaint, reporter_of(complaint)) for complaint in page]
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "show": show,
        "query": request.GET.get("q", "")[:100],
        "statuses": ComplaintStatus.choices,
        "overdue_count": selectors.overdue_complaints(selectors.complaints_for_user(request.user)).count(),
        "today": timezone.localdate(),
    }
    return render(request, "rectification/complaint_list.html", context)


@page(methods=GET_POST, permission="rectification.add_complaint")
def complaint_new(request):
    form = ComplaintForm(request.POST or None, request.FILES or None)
    logged = run_form(
        form,
        lambda f: services.log_complaint(actor=request.user, complaint=f.instance, files=f.cleaned_data["files"]),
        request=request,
    )
    if logged is not None:
        complaint, code = logged
        # Shown once on the complaint page, never put in a URL or stored in clear.
        request.session[f"complaint-code-{complaint.pk}"] = code
        return redirect("rectification:complaint", pk=complaint.pk)
    return render(request, "rectification/complaint_new.html", {"form": form})


def _complaint_page(request, complaint: Complaint, bound=None, status: int = 200):
    user = request.user
    forms = [ComplaintMoveForm(complaint=complaint, to=to) for to in services.COMPLAINT_MOVES.allowed(complaint, user)]
    if isinstance(bound, ComplaintMoveForm):
        forms = [bound if form.to == bound.to else form for form in forms]
    can_open_problem = permits(services.complaints.check_open_problem, user, complaint)
    full = disclosure.is_unmasked(request, complaint)
    name, phone = reporter_of(complaint, full=full)
    context = {
        "complaint": complaint,
        "reporter_name": name,
        "reporter_phone": phone,
        "unmask_url": "" if complaint.is_anonymous else disclosure.unmask_url(request, complaint),
        "code": request.session.pop(f"complaint-code-{complaint.pk}", None),
        "transitions": complaint.transitions.select_related("actor"),
        "move_forms": forms,
        "problem_form": bound if isinstance(bound, ComplaintProblemForm) else ComplaintProblemForm(),
        "can_open_problem": can_open_problem,
        "problems": complaint.problems.all(),
        "leads": complaint.leads.select_related("from_unit", "to_unit"),
        "files": attachments_for_user(user).filter(
            content_type=ContentType.objects.get_for_model(Complaint), object_id=complaint.pk
        ),
        "repeats": complaint.repeats.only("pk", "ticket", "received_at"),
        "overdue": selectors.overdue_complaints(Complaint.objects.filter(pk=complaint.pk)).exists(),
        "calendar_year": last_known_year(),
        "lookup_url": settings.PUBLIC_BASE_URL.rstrip("/") + reverse("complaint-lookup"),
    }
    return render(request, "rectification/complaint_detail.html", context, status=status)


def _get_complaint(request, pk: int) -> Complaint:
    return get_object_or_404(selectors.complaints_for_user(request.user).select_related("repeat_of"), pk=pk)


@page(permission=VIEW)
def complaint_detail(request, pk: int):
    return _complaint_page(request, _get_complaint(request, pk))


@page(methods=POST, permission=VIEW)
def complaint_move(request, pk: int):
    complaint = _get_complaint(request, pk)
    to = request.POST.get("to", "")
    try:
        services.COMPLAINT_MOVES.permission(complaint, to)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("rectification:complaint", pk=complaint.pk)
    form = ComplaintMoveForm(request.POST, complaint=complaint, to=to)
    if run_form(
        form, lambda f: services.move_complaint(actor=request.user, complaint=complaint, to=to, **f.cleaned_data)
    ):
        messages.success(request, _("The complaint is now “%(status)s”.") % {"status": ComplaintStatus(to).label})
        return redirect("rectification:complaint", pk=complaint.pk)
    return _complaint_page(request, complaint, bound=form, status=400)


@page(methods=POST, permission=VIEW)
def complaint_problem(request, pk: int):
    complaint = _get_complaint(request, pk)
    form = ComplaintProblemForm(request.POST)
    problem = run_form(
        form, lambda f: services.open_problem_for_complaint(actor=request.user, complaint=complaint, **f.cleaned_data)
    )
    if problem is not None:
        messages.success(request, _("Problem no. %(number)s is on the township's list.") % {"number": problem.pk})
        return redirect("rectification:complaint", pk=complaint.pk)
    return _complaint_page(request, complaint, bound=form, status=400)


@page(permission=VIEW)
def complaint_export(request):
    complaints, _status, _show = _filtered(request)
    full = selectors.can_view_reporter(request.user)
    content, rows = documents.complaints_workbook(
        complaints.iterator(chunk_size=2000), lambda complaint: reporter_of(complaint, full=full)
    )
    if full:
        disclosure.log_export(
            user=request.user, name=_("Complaints"), rows=rows, ip_address=disclosure.client_ip(request)
        )
    return xlsx_response(content, f"complaints-{timezone.localdate():%Y%m%d}.xlsx")


def _ticket_key(group, request) -> str:
    ticket = request.POST.get("ticket", "")
    return selectors.ticket_from_text(ticket) or ticket.strip().upper()  # variants of one ticket share its limit


# The rate limits are what stop guessing a six-digit code (the check itself is a keyed hash, microseconds): per
# ticket, so one ticket's code is as slow to guess from many addresses as from one; per address, a short burst and
# a total over all tickets (random ticket numbers each escape the per-ticket limit). The address's total is counted
# first, for every attempt, and answered below; the others answer the common 429 page.
@ratelimit(
    group="complaint-lookup-address",
    key="ip",
    rate=lambda group, request: settings.COMPLAINT_LOOKUP_ADDRESS_RATE,
    method="POST",
    block=False,
)
@ratelimit(key="ip", rate=lambda group, request: settings.COMPLAINT_LOOKUP_RATE, method="POST", block=True)
@ratelimit(key=_ticket_key, rate=lambda group, request: settings.COMPLAINT_TICKET_RATE, method="POST", block=True)
def complaint_lookup(request):
    """Public: with the ticket number and query code, the status and the reply; nothing else. A wrong code and
    an unknown ticket get the same answer."""
    if getattr(request, "limited", False):
        message = _("There have been too many lookups from your network. Please try again later.")
        return render(request, "public/message.html", {"title": _("Too many requests"), "message": message}, status=429)
    form = LookupForm(request.POST or None)
    complaint = None
    if request.method == "POST" and form.is_valid():
        complaint = services.lookup(form.cleaned_data["ticket"], form.cleaned_data["code"])
        if complaint is None:
            form.add_error(None, _("No complaint matches this ticket number and query code."))
        else:
            form = LookupForm()  # the code does not stay on the screen of a shared phone
    return render(request, "public/complaint_lookup.html", {"form": form, "complaint": complaint})


# Leads -------------------------------------------------------------------------------------------------------


@page(permission="rectification.view_leadtransfer")
def lead_list(request):
    leads = selectors.leads_for_user(request.user)
    unreceipted = set(selectors.leads_without_receipt(leads).values_list("pk", flat=True))
    if request.GET.get("show") == "unreceipted":
        leads = leads.filter(pk__in=unreceipted)
    leads = leads.filter(**area_lookups(request.GET, township="from_unit__township_id"))  # a township unit's leads
    page = BoundedPaginator(leads.order_by("-sent_on", "-pk"), 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(
        request,
        "rectification/lead_list.html",
        {
            "page": page,
            "unreceipted": unreceipted,
            "year": today.year,
            "quarter": (today.month - 1) // 3 + 1,
            "receipt_form": LeadReceiptForm(initial={"on": today}),
            "feedback_form": LeadFeedbackForm(initial={"on": today}),
            "show": request.GET.get("show", ""),
        },
    )


@page(methods=GET_POST, permission="rectification.add_leadtransfer")
def lead_new(request):
    form = LeadForm(request.POST or None)
    if run_form(form, lambda f: services.record_lead(actor=request.user, lead=f.instance)) is not None:
        messages.success(request, _("The lead was recorded."))
        return redirect("rectification:leads")
    return render(request, "rectification/lead_new.html", {"form": form})


def _lead_write(request, pk: int, form_class, action, success: str):
    lead = get_object_or_404(selectors.leads_for_user(request.user), pk=pk)
    form = form_class(request.POST)
    if run_form(form, lambda f: action(lead, f.cleaned_data)) is not None:
        messages.success(request, success)
    for errors in form.errors.values():  # the forms sit in the list's rows: their refusals are messages there
        for message in errors:
            messages.error(request, message)
    return redirect("rectification:leads")


@page(methods=POST, permission="rectification.change_leadtransfer")
def lead_receipt(request, pk: int):
    return _lead_write(
        request, pk, LeadReceiptForm,
        lambda lead, data: services.confirm_lead_receipt(actor=request.user, lead=lead, on=data["on"], by=data["by"]),
        _("The receipt was recorded."),
    )  # fmt: skip


@page(methods=POST, permission="rectification.change_leadtransfer")
def lead_feedback(request, pk: int):
    return _lead_write(
        request, pk, LeadFeedbackForm,
        lambda lead, data: services.record_lead_feedback(
            actor=request.user, lead=lead, on=data["on"], feedback=data["feedback"]
        ),
        _("The feedback was recorded."),
    )  # fmt: skip


@page(permission="rectification.manage_complaint")
def lead_report(request):
    """The quarterly lead report to the city discipline commission, as Excel, for any quarter."""
    year, quarter = year_param(request.GET, ahead=0), int_param(request.GET, "quarter", maximum=4)
    if year is None or quarter is None:
        return HttpResponseBadRequest(_("Choose a year and a quarter (1-4)."))
    content = documents.lead_report_workbook(year=year, quarter=quarter)
    return xlsx_response(content, f"leads-{year}Q{quarter}.xlsx")
