"""Complaints from the hotline (举报投诉) with protected reporters and working-day deadlines, and the two-way
transfer of leads (线索双向移送) between units and to the discipline inspection organs."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from households.models import Dwelling, Household, PhoneField, Township, Unit, Village
from housing_safety.dates import PlausibleYear, due_date, event_date
from housing_safety.models import Transition


class ComplaintCategory(models.TextChoices):
    DANGEROUS_NOT_RENOVATED = "dangerous_not_renovated", _("Dangerous house not renovated")
    APPRAISAL_DISPUTED = "appraisal_disputed", _("Appraisal disputed")
    SUBSIDY = "subsidy", _("Subsidy problem")
    CONSTRUCTION_QUALITY = "construction_quality", _("Construction quality")
    STAFF_CONDUCT = "staff_conduct", _("Staff conduct or discipline")
    OTHER = "other", _("Other")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Received (已登记)")
    ACCEPTED = "accepted", _("Accepted (已受理)")
    NOT_ACCEPTED = "not_accepted", _("Not accepted (不予受理)")
    ASSIGNED = "assigned", _("Assigned (已交办)")
    HANDLING = "handling", _("Being handled (办理中)")
    REPLIED = "replied", _("Replied (已答复)")
    CLOSED = "closed", _("Closed (已办结)")
    TRANSFERRED = "transferred", _("Transferred (已移送)")
    ESCALATED = "escalated", _("Sent to discipline inspection (已移交纪检监察)")


OPEN_COMPLAINT_STATUSES = (
    ComplaintStatus.RECEIVED,
    ComplaintStatus.ACCEPTED,
    ComplaintStatus.ASSIGNED,
    ComplaintStatus.HANDLING,
    ComplaintStatus.REPLIED,
)


class ComplaintDeadline(models.Model):
    """Working days allowed per category (the bureau sets them in the admin; defaults 3 and 15)."""

    category = models.CharField(_("category"), max_length=24, choices=ComplaintCategory.choices, unique=True)
    acceptance_days = models.PositiveSmallIntegerField(
        _("working days to decide acceptance"), default=3, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    handling_days = models.PositiveSmallIntegerField(
        _("working days to handle"), default=15, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["category"]
        verbose_name = _("complaint deadline")
        verbose_name_plural = _("complaint deadlines")

    def __str__(self) -> str:
        return self.get_category_display()


class Complaint(models.Model):
    Status = ComplaintStatus
    Category = ComplaintCategory

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("Bureau hotline")
        HOTLINE_12345 = "12345", _("12345 transfer")
        LETTER = "letter", _("Letter")
        EMAIL = "email", _("E-mail")
        VISIT = "visit", _("Visit")
        OTHER = "other", _("Other")

    class ReplyMethod(models.TextChoices):
        PHONE = "phone", pgettext_lazy("reply method", "Phone")
        LETTER = "letter", pgettext_lazy("reply method", "Letter")
        VISIT = "visit", _("In person")
        SMS = "sms", _("Text message")
        OTHER = "other", _("Other")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASICALLY = "basically", _("Basically satisfied")
        UNSATISFIED = "unsatisfied", _("Unsatisfied")
        NOT_GIVEN = "not_given", _("Not given")

    ticket = models.CharField(_("ticket number"), max_length=20, unique=True, editable=False)
    query_code_hash = models.CharField(max_length=128, editable=False)
    received_at = models.DateTimeField(_("received at"), validators=[event_date])
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # The sending platform's own number (the 12345 hotline's ticket): once per channel, searchable by the clerk.
    external_ticket = models.CharField(
        _("external ticket number"), max_length=40, blank=True, db_index=True,
        help_text=_("The number the sending platform gave it, e.g. the 12345 hotline's ticket."),
    )  # fmt: skip
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    reporter_name = models.CharField(_("reporter's name"), max_length=50, blank=True)
    reporter_phone = PhoneField(_("reporter's phone"))
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints",
        verbose_name=_("township"),
    )  # fmt: skip
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("village")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints",
        verbose_name=_("household"),
    )  # fmt: skip
    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("dwelling")
    )
    category = models.CharField(_("category"), max_length=24, choices=ComplaintCategory.choices)
    content = models.TextField(_("content"))

    status = models.CharField(_("status"), max_length=14, choices=ComplaintStatus.choices, default="received")
    acceptance_due = models.DateField(_("acceptance decision due"), editable=False, validators=[due_date])
    handling_due = models.DateField(_("handling due"), editable=False, validators=[due_date])
    deadline_estimated = models.BooleanField(_("deadline estimated (holiday calendar out of date)"), default=False)
    decision_note = models.TextField(_("reason for not accepting"), blank=True, editable=False)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False,
        related_name="handled_complaints", verbose_name=_("handler"),
    )  # fmt: skip
    replied_on = models.DateField(_("replied on"), null=True, blank=True, editable=False, validators=[event_date])
    reply_method = models.CharField(_("reply method"), max_length=8, choices=ReplyMethod.choices, blank=True)
    reply = models.TextField(_("reply"), blank=True, editable=False)
    satisfaction = models.CharField(_("satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False, validators=[event_date])
    repeat_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="repeats",
        verbose_name=_("repeat of"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, editable=False, related_name="+",
        verbose_name=_("logged by"),
    )  # fmt: skip
    # The reporter's identity never enters the history tables: history pages cannot leak what they never held.
    history = HistoricalRecords(excluded_fields=["reporter_name", "reporter_phone", "query_code_hash"])

    updated_at = models.DateTimeField(_("updated at"), auto_now=True)  # the API's ?changed_since=

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        permissions = [
            ("manage_complaint", _("Can accept, assign, close, transfer and reopen complaints")),
            ("handle_complaint", _("Can handle and reply to complaints assigned to them")),
            ("view_reporter", _("Can see who made a complaint")),
        ]
        indexes = [
            models.Index(fields=["status", "handling_due"], name="complaint_status_due"),
            models.Index(fields=["-received_at", "-id"], name="complaint_newest_first"),  # the list's order
            models.Index(fields=["updated_at", "id"], name="complaint_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_anonymous=False) | (Q(reporter_name="") & Q(reporter_phone="")),
                name="anonymous_complaint_stores_no_reporter",
                violation_error_message=_("An anonymous complaint stores no name or phone."),
            ),
            models.CheckConstraint(condition=~Q(content=""), name="complaint_has_content"),
            models.UniqueConstraint(
                fields=["channel", "external_ticket"],
                condition=~Q(external_ticket=""),
                name="complaint_external_ticket_once_per_channel",
                violation_error_code="external_ticket_taken",
                violation_error_message=_("A complaint with this external ticket number was already logged."),
            ),
        ]

    def __str__(self) -> str:
        return self.ticket

    def get_absolute_url(self) -> str:
        return reverse("rectification:complaint", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_COMPLAINT_STATUSES


class ComplaintTransition(Transition):
    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, related_name="transitions", verbose_name=_("complaint")
    )
    from_status = models.CharField(_("from"), max_length=14, choices=ComplaintStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=14, choices=ComplaintStatus.choices)

    class Meta(Transition.Meta):
        verbose_name = _("complaint step")
        verbose_name_plural = _("complaint steps")


class LeadTransfer(models.Model):
    """A lead (线索) sent to, or received from, another unit or the discipline inspection organs."""

    class Direction(models.TextChoices):
        OUTGOING = "outgoing", _("Outgoing")
        INCOMING = "incoming", _("Incoming")

    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    from_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("from unit"))
    to_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("to unit")
    )
    to_discipline = models.BooleanField(_("to the discipline inspection organs (纪检监察机关)"), default=False)
    subject = models.TextField(pgettext_lazy("lead", "subject"))
    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, null=True, blank=True, related_name="leads", verbose_name=_("complaint")
    )
    problem = models.ForeignKey(
        "rectification.Problem", on_delete=models.PROTECT, null=True, blank=True, related_name="leads",
        verbose_name=_("problem"),
    )  # fmt: skip
    sent_on = models.DateField(_("sent on"), validators=[event_date])
    receipt_on = models.DateField(_("receipt confirmed on"), null=True, blank=True, validators=[event_date])
    receipt_by = models.CharField(_("receipt confirmed by"), max_length=50, blank=True)
    feedback_on = models.DateField(_("feedback on"), null=True, blank=True, validators=[event_date])
    feedback = models.TextField(_("feedback"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, editable=False, related_name="+",
        verbose_name=_("recorded by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-sent_on", "-pk"]
        verbose_name = _("lead transfer")
        verbose_name_plural = _("lead transfers")
        constraints = [
            models.CheckConstraint(
                condition=(Q(to_unit__isnull=False) & Q(to_discipline=False))
                | (Q(to_unit__isnull=True) & Q(to_discipline=True)),
                name="lead_goes_to_one_recipient",
                violation_error_message=_("Send a lead either to a unit or to the discipline inspection organs."),
            ),
            models.CheckConstraint(
                condition=Q(receipt_on__isnull=True) | Q(receipt_on__gte=models.F("sent_on")),
                name="lead_receipt_after_sending",
                violation_error_message=_("The receipt cannot be dated before the lead was sent."),
            ),
            models.CheckConstraint(
                condition=Q(feedback_on__isnull=True) | Q(feedback_on__gte=models.F("sent_on")),
                name="lead_feedback_after_sending",
                violation_error_message=_("The feedback cannot be dated before the lead was sent."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sent_on} {self.from_unit} → {self.recipient}"

    @property
    def recipient(self) -> str:
        return str(self.to_unit) if self.to_unit_id else str(_("Discipline inspection and supervision organs"))


#: The figures of a quarterly lead return, as `rectification.selectors.lead_counts_by_unit` names the register's.
LEAD_RETURN_FIGURES = ("sent_to_units", "sent_to_discipline", "received", "receipts_confirmed", "feedback")
LEAD_RETURN_MAX = 99_999  # more leads than a unit could send in a quarter is a typing error


def _lead_figure(label):
    return models.PositiveIntegerField(label, default=0, validators=[MaxValueValidator(LEAD_RETURN_MAX)])


class LeadQuarterReturn(models.Model):
    """A participating unit's quarterly lead figures for the bureau (the plan, 五（二）:
    "市各专项整治参与单位每季度向牵头单位报送本专项问题线索情况，牵头单位按季度报市纪委监委"): pre-filled from the lead
    register, corrected by the unit where it
    knows better (with the reason), read by the bureau's quarterly report to the discipline commission."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="lead_returns", verbose_name=_("unit"))
    year = models.PositiveSmallIntegerField(_("year"), validators=[PlausibleYear()])
    quarter = models.PositiveSmallIntegerField(_("quarter"), validators=[MinValueValidator(1), MaxValueValidator(4)])
    sent_to_units = _lead_figure(_("leads sent to other units"))
    sent_to_discipline = _lead_figure(_("leads sent to the discipline inspection organs"))
    received = _lead_figure(_("leads received from other units"))
    receipts_confirmed = _lead_figure(_("receipts confirmed for leads sent"))
    feedback = _lead_figure(_("feedback received for leads sent"))
    situation = models.TextField(_("work situation (工作情况)"), blank=True)
    difference_reason = models.TextField(_("why the figures differ from the lead register"), blank=True)
    register_counts = models.JSONField(_("the lead register's figures when filed"), default=dict, editable=False)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, editable=False, related_name="+",
        verbose_name=_("filed by"),
    )  # fmt: skip
    filed_at = models.DateTimeField(_("filed at"), editable=False, validators=[event_date])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "-quarter", "unit__name"]
        verbose_name = _("quarterly lead return")
        verbose_name_plural = _("quarterly lead returns")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year", "quarter"],
                name="lead_return_once_per_unit_and_quarter",
                violation_error_message=_("This unit has already filed its lead return for this quarter."),
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1) & Q(quarter__lte=4),
                name="lead_return_quarter_1_to_4",
                violation_error_message=_("The quarter is 1 to 4."),
            ),
            models.CheckConstraint(
                condition=Q(receipts_confirmed__lte=models.F("sent_to_units") + models.F("sent_to_discipline"))
                & Q(feedback__lte=models.F("sent_to_units") + models.F("sent_to_discipline")),
                name="lead_return_receipts_within_sent",
                violation_error_message=_("Receipts and feedback cannot exceed the leads sent."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.year}Q{self.quarter}"

    @property
    def sent(self) -> int:
        return self.sent_to_units + self.sent_to_discipline

    def figures(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in LEAD_RETURN_FIGURES}
