"""Complaints (举报投诉): intake, one table of moves, one function that moves a complaint; leads (线索移送)."""

from __future__ import annotations

import datetime
import functools
import secrets

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import check_password, identify_hasher
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.identity import half_width
from households.models import Attachment, Unit
from households.services import add_attachment
from households.uploads import validate_attachment_file
from housing_safety import webhooks
from housing_safety.access import Role, ensure_can_write_in_township, require_perm, scope_of
from housing_safety.dates import check_date
from housing_safety.notices import notify
from housing_safety.workdays import add_working_days
from housing_safety.workflow import Workflow

from .. import selectors, webhook_events
from ..models import (
    Complaint,
    ComplaintDeadline,
    ComplaintStatus,
    ComplaintTransition,
    LeadTransfer,
    Problem,
)
from .problems import phase_on, save_problem

S = ComplaintStatus
MANAGE = "rectification.manage_complaint"
HANDLE = "rectification.handle_complaint"

# (from, to) -> permission. The clerk accepts, assigns, closes, transfers, escalates and reopens; the assigned
# handler (专人) takes the complaint up and replies to the reporter.
COMPLAINT_MOVES = Workflow(
    {
        (S.RECEIVED, S.ACCEPTED): MANAGE,
        (S.RECEIVED, S.NOT_ACCEPTED): MANAGE,
        (S.ACCEPTED, S.ASSIGNED): MANAGE,
        (S.ASSIGNED, S.HANDLING): HANDLE,
        (S.HANDLING, S.REPLIED): HANDLE,
        (S.REPLIED, S.CLOSED): MANAGE,
        (S.CLOSED, S.HANDLING): MANAGE,  # reopened, with a reason
        **{(step, S.TRANSFERRED): MANAGE for step in (S.ACCEPTED, S.ASSIGNED, S.HANDLING)},
        **{(step, S.ESCALATED): MANAGE for step in (S.ACCEPTED, S.ASSIGNED, S.HANDLING)},
    },
    statuses=S,
    refusal=gettext_lazy(
        "This complaint is “%(from)s” and cannot become “%(to)s” (someone may have moved it: reload)."
    ),
    # The handler's moves are the assigned handler's alone.
    guard=lambda user, complaint, permission: permission != HANDLE or complaint.handler_id == user.pk,
    guard_refusal=gettext_lazy("Only the assigned handler can do this."),
)
QUERY_CODE_DIGITS = 6
REPEAT_WINDOW_DAYS = 365


def _bureau_unit() -> Unit:
    return Unit.objects.get(kind=Unit.Kind.BUREAU)


def _next_ticket(year: int) -> str:
    prefix = f"TS-{year}-"
    last = (
        Complaint.objects.filter(ticket__startswith=prefix).order_by("-ticket").values_list("ticket", flat=True).first()
    )
    return f"{prefix}{int(last.removeprefix(prefix)) + 1 if last else 1:06d}"


def _fill_subject(complaint: Complaint) -> None:
    """Derive the wider subject from the narrower one (dwelling → household → village → township) and refuse
    a subject whose parts disagree."""
    errors = {}
    if complaint.dwelling_id:
        if complaint.household_id and complaint.dwelling.household_id != complaint.household_id:
            errors["dwelling"] = _("This dwelling belongs to another household.")
        complaint.household = complaint.dwelling.household
    if complaint.household_id:
        if complaint.village_id and complaint.household.village_id != complaint.village_id:
            errors["household"] = _("This household is in another village.")
        complaint.village = complaint.household.village
    if complaint.village_id:
        if complaint.township_id and complaint.village.township_id != complaint.township_id:
            errors["village"] = _("This village is in another township.")
        complaint.township_id = complaint.village.township_id
    if errors:
        raise ValidationError(errors)


def _repeat_of(complaint: Complaint) -> Complaint | None:
    """The newest earlier complaint (within a year) about the same household, or else the same village and
    category: a repeat complaint is linked to it and flagged."""
    since = complaint.received_at - datetime.timedelta(days=REPEAT_WINDOW_DAYS)
    earlier = Complaint.objects.filter(received_at__gte=since, received_at__lte=complaint.received_at)
    if complaint.household_id:
        earlier = earlier.filter(household_id=complaint.household_id)
    elif complaint.village_id:
        earlier = earlier.filter(village_id=complaint.village_id, household__isnull=True, category=complaint.category)
    else:
        return None
    return earlier.exclude(pk=complaint.pk).order_by("-received_at", "-pk").first()


@transaction.atomic
def log_complaint(*, actor: AbstractBaseUser, complaint: Complaint, files=()) -> tuple[Complaint, str]:
    """Log a complaint with its photos or scans; return it with the query code given to the reporter (stored only
    as a hash).

    Rules: content and channel are required; an anonymous complaint stores no name or phone; a named one needs a
    name or a phone; the subject's parts agree; deadlines are counted in working days from the day of receipt;
    files are checked by content before anything is written.
    """
    require_perm(actor, "rectification.add_complaint")
    files = [f for f in files if f]
    for uploaded in files:
        validate_attachment_file(uploaded)
    if complaint.pk:
        raise ValidationError(_("A complaint is logged once; change it through its steps."))
    if complaint.is_anonymous:
        complaint.reporter_name, complaint.reporter_phone = "", ""
    elif not (complaint.reporter_name.strip() or complaint.reporter_phone.strip()):
        raise ValidationError(
            {"reporter_name": _("Enter the reporter's name or phone, or mark the complaint anonymous.")}
        )
    if not (complaint.content or "").strip():
        raise ValidationError({"content": _("Enter what the complaint is about.")})
    complaint.received_at = complaint.received_at or timezone.now()
    if complaint.received_at > timezone.now():
        raise ValidationError({"received_at": _("The time of receipt cannot be in the future.")})
    check_date("received_at", complaint.received_at)  # not before 2000 (year 1 broke the date arithmetic below)
    _fill_subject(complaint)
    deadline = ComplaintDeadline.objects.filter(category=complaint.category).first() or ComplaintDeadline()
    received_on = timezone.localdate(complaint.received_at)
    acceptance = add_working_days(received_on, deadline.acceptance_days)
    handling = add_working_days(received_on, deadline.handling_days)
    complaint.acceptance_due, complaint.handling_due = acceptance.day, handling.day
    complaint.deadline_estimated = acceptance.estimated or handling.estimated
    code = "".join(secrets.choice("0123456789") for _digit in range(QUERY_CODE_DIGITS))
    complaint.query_code_hash = hash_query_code(code)
    complaint.status, complaint.created_by = S.RECEIVED, actor
    complaint.repeat_of = _repeat_of(complaint)
    complaint.ticket = "pending"
    complaint.full_clean(exclude=["ticket"])
    complaint._history_user = actor
    for _attempt in range(5):  # two clerks at once: the unique ticket makes one retry with the next number
        complaint.ticket = _next_ticket(received_on.year)
        try:
            with transaction.atomic():
                complaint.save(force_insert=True)
            break
        except IntegrityError:
            complaint.pk = None
    else:
        raise ValidationError(_("Could not number the complaint; try again."))
    ComplaintTransition.objects.create(complaint=complaint, from_status="", to_status=S.RECEIVED, actor=actor)
    for uploaded in files:
        add_attachment(actor=actor, record=complaint, uploaded_file=uploaded, kind=Attachment.Kind.DOCUMENT)
    return complaint, code


def _check_handler(complaint: Complaint, handler: AbstractBaseUser | None) -> None:
    if handler is None or not handler.is_active or not handler.has_perm(HANDLE):
        raise ValidationError({"handler": _("Choose a handler who may handle complaints.")})
    scope = scope_of(handler)
    if scope.role == Role.TOWNSHIP_STAFF:
        if complaint.township_id is None:
            raise ValidationError({"handler": _("Set the complaint's township before assigning township staff.")})
        if not scope.covers_township(complaint.township_id):
            raise ValidationError({"handler": _("This handler works in another township.")})


@transaction.atomic
def move_complaint(
    *,
    actor: AbstractBaseUser,
    complaint: Complaint,
    to: str,
    note: str = "",
    handler: AbstractBaseUser | None = None,
    replied_on: datetime.date | None = None,
    reply_method: str = "",
    reply: str = "",
    satisfaction: str = "",
    to_unit: Unit | None = None,
) -> Complaint:
    """Move a complaint along COMPLAINT_MOVES under a row lock.

    Not accepting, reopening, transferring and escalating need a reason; assigning needs a handler who may
    handle complaints in the subject's township; only the assigned handler takes it up and replies, and a reply
    needs its date, method and content; transferring needs the receiving unit and records an outgoing lead,
    escalating records a lead to the discipline inspection organs.
    """
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    permission = COMPLAINT_MOVES.check(actor, complaint, to)
    if permission == HANDLE and complaint.township_id:
        ensure_can_write_in_township(actor, complaint.township_id)
    note = note.strip()
    today = timezone.localdate()
    lead = None
    needs_reason = to in (S.NOT_ACCEPTED, S.TRANSFERRED, S.ESCALATED) or complaint.status == S.CLOSED
    if needs_reason and not note:
        raise ValidationError({"note": _("Give the reason.")})
    if to == S.NOT_ACCEPTED:
        complaint.decision_note = note
    if to == S.ASSIGNED:
        _check_handler(complaint, handler)
        complaint.handler = handler
    if to == S.REPLIED:
        errors = {}
        if replied_on is None:
            errors["replied_on"] = _("Enter the date of the reply.")
        elif replied_on > today or replied_on < timezone.localdate(complaint.received_at):
            errors["replied_on"] = _("The reply date must lie between the receipt and today.")
        if reply_method not in Complaint.ReplyMethod.values:
            errors["reply_method"] = _("Choose how the reporter was answered.")
        if not reply.strip():
            errors["reply"] = _("Enter the reply given to the reporter.")
        if errors:
            raise ValidationError(errors)
        complaint.replied_on, complaint.reply_method, complaint.reply = replied_on, reply_method, reply.strip()
    if to == S.CLOSED:
        if satisfaction and satisfaction not in Complaint.Satisfaction.values:
            raise ValidationError({"satisfaction": _("Choose the reporter's satisfaction.")})
        complaint.satisfaction = satisfaction or Complaint.Satisfaction.NOT_GIVEN
        complaint.closed_at = timezone.now()
    if to == S.HANDLING and complaint.status == S.CLOSED:
        complaint.closed_at, complaint.satisfaction = None, ""
    if to == S.TRANSFERRED:
        if to_unit is None:
            raise ValidationError({"to_unit": _("Choose the unit the complaint is transferred to.")})
        lead = LeadTransfer(direction=LeadTransfer.Direction.OUTGOING, to_unit=to_unit)
    if to == S.ESCALATED:
        lead = LeadTransfer(direction=LeadTransfer.Direction.OUTGOING, to_discipline=True)
    if lead is not None:
        lead.from_unit, lead.subject, lead.complaint = _bureau_unit(), f"{complaint.ticket}：{note}", complaint
        lead.sent_on, lead.created_by = today, actor
        lead.full_clean()
        lead._history_user = actor
        lead.save()
    ComplaintTransition.objects.create(
        complaint=complaint, from_status=complaint.status, to_status=to, actor=actor, note=note
    )
    webhooks.emit("complaint.moved", functools.partial(webhook_events.complaint_moved, complaint, complaint.status, to))
    complaint.status = to
    complaint._history_user = actor
    complaint.save()
    if to == S.ASSIGNED:
        notify_handler_of_complaint(complaint)
    return complaint


def notify_handler_of_complaint(complaint: Complaint) -> int:
    """Tell the assigned handler (ticket, category, place, content and deadline, never the reporter: the handler's
    role does not see who complained): a notice in their inbox and the e-mail where they have an address, in the
    outbox with the assignment, so a broker or mail server that is down delays it but does not lose it. How many it
    reached (0: no handler, or an inactive one).

    The key names the complaint, the handler and which assignment of the complaint this is: running this again
    for the same assignment (a retried delivery, an old task) sends nothing more, while a later assignment, should
    COMPLAINT_MOVES ever allow one (even to the same person), is news and is sent."""
    handler = complaint.handler
    if handler is None:
        return 0
    assignment = complaint.transitions.filter(to_status=S.ASSIGNED).count()
    place = " ".join(filter(None, [getattr(complaint.township, "name", ""), getattr(complaint.village, "name", "")]))
    path = reverse("rectification:complaint", args=[complaint.pk])
    with translation.override(settings.LANGUAGE_CODE):
        return notify(
            key=f"complaint-assigned:{complaint.pk}:{handler.pk}:{assignment}",
            users=[handler],
            title=_("Complaint %(ticket)s assigned to you") % {"ticket": complaint.ticket},
            body=f"{complaint.get_category_display()} · {place or '-'} · {complaint.handling_due:%Y-%m-%d}",
            url=path,
            email_body=_("%(category)s · %(place)s\n\n%(content)s\n\nHandle it by %(due)s at %(url)s")
            % {
                "category": complaint.get_category_display(),
                "place": place or "-",
                "content": complaint.content,
                "due": f"{complaint.handling_due:%Y-%m-%d}",
                "url": settings.PUBLIC_BASE_URL.rstrip("/") + path,
            },
        )


def check_open_problem(actor: AbstractBaseUser, complaint: Complaint) -> None:
    """Only the assigned handler, while handling the complaint, puts it on the problem list (save_problem checks
    the rest); the complaint page offers the form when this lets it through (housing_safety.workflow.permits)."""
    if complaint.handler_id != actor.pk or complaint.status != S.HANDLING:
        raise PermissionDenied(_("Only the assigned handler can do this."))
    require_perm(actor, "rectification.add_problem")


@transaction.atomic
def open_problem_for_complaint(
    *, actor: AbstractBaseUser, complaint: Complaint, description: str, deadline: datetime.date
) -> Problem:
    """The handler found the complaint to be a real problem (check_open_problem): it goes on the township's problem
    list, linked."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    check_open_problem(actor, complaint)
    if complaint.township_id is None:
        raise ValidationError(_("Set the complaint's township first."))
    problem = Problem(
        township_id=complaint.township_id,
        household=complaint.household,
        dwelling=complaint.dwelling,
        source=Problem.Source.COMPLAINT,
        kind=Problem.Kind.OTHER,
        complaint=complaint,
        description=description.strip() or complaint.content,
        deadline=deadline,
        phase=phase_on(timezone.localdate()),
    )
    return save_problem(actor=actor, problem=problem)


# Query codes are stored as HMAC-SHA256 keyed with a key derived from SECRET_KEY and a random salt per complaint. Six
# digits are a million codes: no hash makes guessing them slow enough, so a password hash (0.7 s of CPU per try,
# for anyone who posts the form) only cost the server; the rate limits per ticket and per address are what stop
# guessing (complaint_views.complaint_lookup). Without SECRET_KEY a copy of the database does not reveal the codes.
QUERY_CODE_SCHEME = "hmac-sha256"
_QUERY_CODE_KEY_SALT = "rectification.complaint.query_code"


def hash_query_code(code: str, *, salt: str | None = None, secret: str | None = None) -> str:
    """The stored form of a query code: `hmac-sha256$<salt>$<hex digest>`."""
    salt = salt or secrets.token_hex(8)
    digest = salted_hmac(_QUERY_CODE_KEY_SALT, f"{salt}${code}", secret=secret, algorithm="sha256").hexdigest()
    return f"{QUERY_CODE_SCHEME}${salt}${digest}"


def query_code_matches(code: str, stored: str) -> bool:
    """Whether `code` is the code stored as `stored`, compared in constant time; codes stored before a SECRET_KEY
    rotation still match while the old key is in SECRET_KEY_FALLBACKS."""
    scheme, _sep, rest = (stored or "").partition("$")
    salt = rest.partition("$")[0]
    if scheme != QUERY_CODE_SCHEME or not salt:
        return False
    return any(
        constant_time_compare(hash_query_code(code, salt=salt, secret=secret), stored)
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    )


def _stored_as_password(stored: str) -> bool:
    """A code stored before issue 23, as a Django password hash."""
    try:
        identify_hasher(stored)
    except ValueError:
        return False
    return True


def lookup(ticket: str, code: str) -> Complaint | None:
    """The public progress lookup: the complaint only when both the ticket and its code match.

    A code stored the earlier way (a password hash) is checked that way once more and, when it matches, stored
    anew as a keyed hash: the reporter's code keeps working, and that ticket costs no password hash again."""
    ticket = selectors.ticket_from_text(ticket) or ticket.strip().upper()  # as people type it (TS2026-12, ts-…)
    complaint = Complaint.objects.filter(ticket=ticket).first()
    code = half_width(code).strip()
    if complaint is None:
        query_code_matches(code, hash_query_code(""))  # the same work as a real check
        return None
    stored = complaint.query_code_hash
    if query_code_matches(code, stored):
        return complaint
    if stored.startswith(f"{QUERY_CODE_SCHEME}$") or not _stored_as_password(stored):
        return None
    if not check_password(code, stored):
        return None
    complaint.query_code_hash = hash_query_code(code)
    Complaint.objects.filter(pk=complaint.pk, query_code_hash=stored).update(query_code_hash=complaint.query_code_hash)
    return complaint


# Leads -------------------------------------------------------------------------------------------------------


def _ensure_lead_scope(actor: AbstractBaseUser, lead: LeadTransfer) -> None:
    """The bureau and its clerks record any lead; a department liaison only leads of their own unit."""
    if actor.has_perm(MANAGE):
        return
    unit_id = scope_of(actor).unit_id
    if unit_id is None or unit_id not in (lead.from_unit_id, lead.to_unit_id):
        raise PermissionDenied(_("You may only record leads of your own unit."))


@transaction.atomic
def record_lead(*, actor: AbstractBaseUser, lead: LeadTransfer) -> LeadTransfer:
    require_perm(actor, "rectification.add_leadtransfer")
    _ensure_lead_scope(actor, lead)
    check_date("sent_on", lead.sent_on)  # not in the future, not before 2000
    lead.created_by = actor
    lead.full_clean()
    lead._history_user = actor
    lead.save()
    return lead


@transaction.atomic
def confirm_lead_receipt(*, actor: AbstractBaseUser, lead: LeadTransfer, on: datetime.date, by: str) -> LeadTransfer:
    require_perm(actor, "rectification.change_leadtransfer")
    lead = LeadTransfer.objects.select_for_update().get(pk=lead.pk)
    _ensure_lead_scope(actor, lead)
    if lead.receipt_on:
        raise ValidationError(_("The receipt was already confirmed."))
    if not by.strip():
        raise ValidationError({"receipt_by": _("Enter who confirmed the receipt.")})
    check_date("receipt_on", on)  # not in the future, not before 2000
    lead.receipt_on, lead.receipt_by = on, by.strip()
    lead.full_clean()
    lead._history_user = actor
    lead.save()
    return lead


@transaction.atomic
def record_lead_feedback(
    *, actor: AbstractBaseUser, lead: LeadTransfer, on: datetime.date, feedback: str
) -> LeadTransfer:
    require_perm(actor, "rectification.change_leadtransfer")
    lead = LeadTransfer.objects.select_for_update().get(pk=lead.pk)
    _ensure_lead_scope(actor, lead)
    if not feedback.strip():
        raise ValidationError({"feedback": _("Enter the feedback.")})
    check_date("feedback_on", on)  # not in the future, not before 2000
    lead.feedback_on, lead.feedback = on, feedback.strip()
    lead.full_clean()
    lead._history_user = actor
    lead.save()
    return lead


def receipt_overdue_since(today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) - datetime.timedelta(days=settings.LEAD_RECEIPT_DAYS)
