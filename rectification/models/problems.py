"""The township's problem list (一乡镇一清单): every problem found, its measure, owner, deadline and state."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from households.models import Dwelling, Household, Township
from housing_safety.dates import due_date, event_date
from housing_safety.models import Transition
from inspections.models import FindingKind, HelperReport, Revisit


class Problem(models.Model):
    class Source(models.TextChoices):
        SELF_INSPECTION = "self_inspection", _("Township self-inspection")
        REVISIT = "revisit", _("Revisit")
        HELPER_REPORT = "helper_report", _("Helper's report")
        COMPLAINT = "complaint", _("Complaint")
        SPOT_CHECK = "spot_check", _("Spot check")
        LEAD_TRANSFER = "lead_transfer", _("Transferred lead")
        OTHER = "other", _("Other")

    class Kind(models.TextChoices):
        NEW_DAMAGE = FindingKind.NEW_DAMAGE.value, FindingKind.NEW_DAMAGE.label
        LIVES_IN_OLD_DANGEROUS = FindingKind.LIVES_IN_OLD_DANGEROUS.value, FindingKind.LIVES_IN_OLD_DANGEROUS.label
        CONNECTED_HAZARD = FindingKind.CONNECTED_HAZARD.value, FindingKind.CONNECTED_HAZARD.label
        LEAKING = FindingKind.LEAKING.value, FindingKind.LEAKING.label
        PLACARD_MISSING = FindingKind.PLACARD_MISSING.value, FindingKind.PLACARD_MISSING.label
        MISSING_DOCUMENTS = "missing_documents", _("missing archive documents")
        DATA_MISMATCH = "data_mismatch", _("data mismatch")
        OTHER = "other", _("other")

    class Phase(models.IntegerChoices):
        SELF_INSPECTION = 1, _("Phase 1: self-inspection and lists")
        RECTIFICATION = 2, _("Phase 2: inspection and rectification")
        MONITORING = 3, _("Phase 3: monitoring and gap filling")
        SUMMARY = 4, _("Phase 4: summary")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        VERIFIED = "verified", _("Verified")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="problems", verbose_name=_("township")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="problems", verbose_name=_("household")
    )
    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, null=True, blank=True, related_name="problems", verbose_name=_("dwelling")
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    # The plan's 第一阶段: problems found "从落实任务和4项机制两方面": the task or mechanism the problem falls short of.
    plan_item = models.ForeignKey(
        "rectification.PlanItem", on_delete=models.PROTECT, null=True, blank=True, related_name="problems",
        limit_choices_to={"kind__in": ["task", "mechanism"]}, verbose_name=_("task or mechanism"),
        help_text=_("The plan's task (整治内容) or mechanism (工作机制) this problem falls short of."),
    )  # fmt: skip
    revisit = models.ForeignKey(
        Revisit, on_delete=models.PROTECT, null=True, blank=True, related_name="problems", verbose_name=_("revisit")
    )
    complaint = models.ForeignKey(
        "rectification.Complaint", on_delete=models.PROTECT, null=True, blank=True, related_name="problems",
        verbose_name=_("complaint"),
    )  # fmt: skip
    helper_report = models.ForeignKey(
        HelperReport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problems",
        verbose_name=_("helper's report"),
    )
    description = models.TextField(_("problem"))
    measure = models.TextField(_("rectification measure"), blank=True)
    responsible_person = models.CharField(_("responsible person"), max_length=50, blank=True)
    deadline = models.DateField(_("deadline"), validators=[due_date])
    phase = models.PositiveSmallIntegerField(_("phase"), choices=Phase.choices, default=Phase.MONITORING)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False, validators=[event_date])
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+",
        verbose_name=_("resolved by"),
    )  # fmt: skip
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, editable=False, validators=[event_date])
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+",
        verbose_name=_("verified by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        editable=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    history = HistoricalRecords()

    updated_at = models.DateTimeField(_("updated at"), auto_now=True)  # the API's ?changed_since=

    class Meta:
        ordering = ["deadline", "pk"]
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        permissions = [("verify_problem", _("Can verify that a problem is resolved"))]
        indexes = [
            models.Index(fields=["township", "status", "deadline"], name="problem_township_status"),
            models.Index(fields=["deadline", "id"], name="problem_deadline"),  # the list's order
            models.Index(fields=["updated_at", "id"], name="problem_updated"),
        ]
        constraints = [
            # A repeated finding does not open a second problem while the first is still open.
            models.UniqueConstraint(
                fields=["dwelling", "kind"],
                condition=Q(status__in=["open", "in_progress"], dwelling__isnull=False),
                name="problem_one_open_per_dwelling_and_kind",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "verified"]) | ~Q(resolution=""),
                name="problem_resolution_needs_note",
                violation_error_message=_("A resolved problem needs a resolution note."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.household or self.township}"

    def clean(self):
        errors = {}
        if self.household_id and self.township_id and self.household.village.township_id != self.township_id:
            errors["household"] = _("This household is in another township.")
        if self.dwelling_id and self.dwelling.household_id != self.household_id:
            errors["dwelling"] = _("This dwelling belongs to another household.")
        if errors:
            raise ValidationError(errors)


class ProblemTransition(Transition):
    """One dated step of a problem's workflow, with who did it and why."""

    problem = models.ForeignKey(
        Problem, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("problem")
    )
    from_status = models.CharField(_("from"), max_length=12, choices=Problem.Status.choices)
    to_status = models.CharField(_("to"), max_length=12, choices=Problem.Status.choices)

    class Meta(Transition.Meta):
        verbose_name = _("problem step")
        verbose_name_plural = _("problem steps")
