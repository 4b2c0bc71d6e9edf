"""Renovation cases (危房改造): the procedure's steps, the household archive (一户一档) and subsidies."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from households.models import Attachment, Dwelling, Household, Township
from housing_safety.dates import AHEAD_YEARS, PlausibleYear, due_date, event_date
from housing_safety.models import Transition
from inspections.models import Appraisal


class CaseStatus(models.TextChoices):
    APPLIED = "applied", _("Applied (农户申请)")
    VILLAGE_ASSESSED = "village_assessed", _("Village assessed (村民评议)")
    TOWNSHIP_REVIEWED = "township_reviewed", _("Township reviewed (乡镇审核)")
    APPROVED = "approved", _("Approved (县级审批)")
    AGREEMENT_SIGNED = "agreement_signed", _("Agreement signed (签订协议)")
    CONSTRUCTION_STARTED = "construction_started", _("Under construction (开工)")
    ACCEPTED = "accepted", _("Completion accepted (竣工验收)")
    PAID = "paid", _("Subsidy paid (补助拨付)")
    ARCHIVED = "archived", _("Archived (归档)")
    REJECTED = "rejected", _("Rejected (不予通过)")
    WITHDRAWN = "withdrawn", _("Withdrawn (撤回)")


# The procedure in order; a case reaches these one after another (rejection or withdrawal may end it anywhere).
CASE_STEPS = (
    CaseStatus.APPLIED,
    CaseStatus.VILLAGE_ASSESSED,
    CaseStatus.TOWNSHIP_REVIEWED,
    CaseStatus.APPROVED,
    CaseStatus.AGREEMENT_SIGNED,
    CaseStatus.CONSTRUCTION_STARTED,
    CaseStatus.ACCEPTED,
    CaseStatus.PAID,
    CaseStatus.ARCHIVED,
)
CLOSED_CASE_STATUSES = (CaseStatus.ARCHIVED, CaseStatus.REJECTED, CaseStatus.WITHDRAWN)


class RenovationType(models.TextChoices):
    REPAIR = "repair", _("Repair and reinforcement (修缮加固)")
    REBUILD = "rebuild", _("Demolish and rebuild (拆除重建)")
    NEW_SITE = "new_site", _("Build on a new site (选址新建)")
    POST_DISASTER = "post_disaster", _("Post-disaster rebuilding (灾后重建)")
    SWAP_OR_LEASE = "swap_or_lease", _("Swap or lease of an idle house (置换或租赁)")
    RELOCATION = "relocation", _("Relocation programme (造福工程搬迁)")


# Types after which the household lives in another dwelling (registered as a new dwelling of the household).
MOVING_TYPES = (RenovationType.NEW_SITE, RenovationType.SWAP_OR_LEASE, RenovationType.RELOCATION)


class DocumentKind(models.Model):
    """A kind of document in the household archive (一户一档) and the step that cannot complete without it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    step = models.CharField(_("required for step"), max_length=24, choices=CaseStatus.choices[:9])
    is_required = models.BooleanField(_("required"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("archive document kind")
        verbose_name_plural = _("archive document kinds")

    def __str__(self) -> str:
        return self.name


class SubsidyStandard(models.Model):
    """The standard subsidy per household for a renovation type in a programme year (set by the bureau)."""

    year = models.PositiveSmallIntegerField(_("programme year"), validators=[PlausibleYear(ahead=AHEAD_YEARS)])
    renovation_type = models.CharField(_("renovation type"), max_length=16, choices=RenovationType.choices)
    amount = models.DecimalField(_("standard amount (yuan)"), max_digits=10, decimal_places=2)
    note = models.CharField(_("basis (document number)"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "renovation_type"]
        verbose_name = _("subsidy standard")
        verbose_name_plural = _("subsidy standards")
        constraints = [
            models.UniqueConstraint(fields=["year", "renovation_type"], name="subsidy_standard_once_per_year_type"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="subsidy_standard_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_renovation_type_display()} ¥{self.amount}"


class RenovationCase(models.Model):
    """One dangerous dwelling's renovation, from the household's application to the archived file."""

    Status = CaseStatus

    class BuildMode(models.TextChoices):
        UNIFIED = "unified", _("Built by the government (统建)")
        SELF = "self", _("Built by the household (自建)")

    class Funding(models.TextChoices):
        CENTRAL = "central", _("Central subsidy (中央补助)")
        PROVINCIAL = "provincial", _("Provincial subsidy (省级补助)")
        LOCAL = "local", _("City funds (市级配套)")
        COMBINED = "combined", _("Combined sources (多渠道)")
        OTHER = "other", _("Other")

    class OldHouse(models.TextChoices):
        DEMOLISHED = "demolished", _("Demolished (已拆除)")
        RETAINED = "retained", _("Retained, not lived in (保留不住人)")

    number = models.CharField(_("case number"), max_length=20, unique=True, editable=False)
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="renovation_cases", verbose_name=_("township"),
        editable=False,
    )  # fmt: skip
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="renovation_cases", verbose_name=_("household")
    )
    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, related_name="renovation_cases", verbose_name=_("dwelling")
    )
    trigger_appraisal = models.ForeignKey(
        Appraisal, on_delete=models.PROTECT, related_name="renovation_cases", verbose_name=_("appraisal (C/D)")
    )
    programme_year = models.PositiveSmallIntegerField(
        _("programme year"), validators=[PlausibleYear(ahead=AHEAD_YEARS)]
    )
    renovation_type = models.CharField(_("renovation type"), max_length=16, choices=RenovationType.choices)
    build_mode = models.CharField(_("build mode"), max_length=8, choices=BuildMode.choices)
    funding_source = models.CharField(_("funding source"), max_length=12, choices=Funding.choices)
    planned_subsidy = models.DecimalField(
        _("planned subsidy (yuan)"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    builder = models.CharField(_("contractor or builder"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    status = models.CharField(_("step"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.APPLIED)
    status_on = models.DateField(_("date of the current step"), editable=False, validators=[event_date])
    # The day someone last recorded a step or check (not the step's own date: entering old paper records is
    # activity), for the stalled-case list.
    last_activity_on = models.DateField(_("last activity"), editable=False, validators=[event_date])
    closed_from = models.CharField(
        _("ended at step"), max_length=24, choices=CaseStatus.choices, blank=True, editable=False
    )
    village_posting_start = models.DateField(
        _("village posting from"), null=True, blank=True, editable=False, validators=[due_date]
    )
    village_posting_end = models.DateField(
        _("village posting until"), null=True, blank=True, editable=False, validators=[due_date]
    )
    township_posting_start = models.DateField(
        _("township posting from"), null=True, blank=True, editable=False, validators=[due_date]
    )
    township_posting_end = models.DateField(
        _("township posting until"), null=True, blank=True, editable=False, validators=[due_date]
    )
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True, editable=False, validators=[event_date])
    acceptors = models.CharField(_("acceptance team"), max_length=200, blank=True, editable=False)
    acceptance_appraisal = models.ForeignKey(
        Appraisal, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+",
        verbose_name=_("appraisal after completion"),
    )  # fmt: skip

    # Moving types (relocation, new site, swap or lease): where the household now lives.
    resettlement_site = models.CharField(_("resettlement site"), max_length=100, blank=True)
    new_dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+",
        verbose_name=_("new dwelling"),
    )  # fmt: skip
    moved_in_on = models.DateField(_("moved in on"), null=True, blank=True, editable=False, validators=[event_date])
    old_house_outcome = models.CharField(
        _("old house"), max_length=12, choices=OldHouse.choices, blank=True, editable=False
    )

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, editable=False, related_name="+",
        verbose_name=_("created by"),
    )  # fmt: skip
    history = HistoricalRecords()

    class Meta:
        ordering = ["-programme_year", "number"]
        verbose_name = _("renovation case")
        verbose_name_plural = _("renovation cases")
        permissions = [
            ("advance_case", _("Can move renovation cases through the township's steps")),
            ("approve_case", _("Can approve or reject renovation cases for the bureau")),
            ("complete_case", _("Can accept, pay and archive renovation cases")),
            ("override_case_rules", _("Can override archive and subsidy rules, with a reason")),
        ]
        indexes = [
            models.Index(fields=["township", "status"], name="case_township_status"),
            models.Index(fields=["township", "number"], name="case_township_number"),  # the case list's order
            models.Index(fields=["-programme_year", "number"], name="case_year_number"),  # the admin's order
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dwelling"],
                condition=~Q(status__in=["archived", "rejected", "withdrawn"]),
                name="case_one_open_per_dwelling",
                violation_error_message=_("This dwelling already has an open renovation case."),
            ),
            models.CheckConstraint(condition=Q(planned_subsidy__gte=0), name="case_subsidy_not_negative"),
            models.CheckConstraint(
                condition=Q(village_posting_end__gte=F("village_posting_start")) | Q(village_posting_end__isnull=True),
                name="case_village_posting_ordered",
            ),
            models.CheckConstraint(
                condition=Q(township_posting_end__gte=F("township_posting_start"))
                | Q(township_posting_end__isnull=True),
                name="case_township_posting_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.household.head_name}"

    def get_absolute_url(self) -> str:
        return reverse("rectification:case", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_CASE_STATUSES

    @property
    def is_moving(self) -> bool:
        return self.renovation_type in MOVING_TYPES

    @property
    def target_dwelling(self):
        """The dwelling the household lives in after the works: the new one for moving types."""
        return self.new_dwelling if self.is_moving else self.dwelling

    def reached_steps(self) -> tuple[str, ...]:
        last = self.closed_from if self.status in (CaseStatus.REJECTED, CaseStatus.WITHDRAWN) else self.status
        return CASE_STEPS[: CASE_STEPS.index(last) + 1] if last in CASE_STEPS else ()


class CaseTransition(Transition):
    """One dated step of a case, with who recorded it, why, and any rule overridden; a construction check is a
    row whose from and to are both "under construction"."""

    case = models.ForeignKey(
        RenovationCase, on_delete=models.PROTECT, related_name="transitions", verbose_name=_("renovation case")
    )
    from_status = models.CharField(_("from"), max_length=24, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=24, choices=CaseStatus.choices)
    on = models.DateField(_("date"), validators=[event_date])  # the step's own date; `at` is when it was entered
    at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    override_reason = models.TextField(_("reason for overriding a rule"), blank=True)
    overridden = models.TextField(_("rules overridden"), blank=True)

    class Meta(Transition.Meta):
        ordering = ["on", "at", "pk"]
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")


class CaseDocument(models.Model):
    """A file of the household archive: which kind it is and at which step it was filed."""

    case = models.ForeignKey(
        RenovationCase, on_delete=models.PROTECT, related_name="documents", verbose_name=_("renovation case")
    )
    kind = models.ForeignKey(DocumentKind, on_delete=models.PROTECT, related_name="+", verbose_name=_("kind"))
    attachment = models.OneToOneField(
        Attachment, on_delete=models.PROTECT, related_name="case_document", verbose_name=_("file")
    )
    step = models.CharField(_("filed at step"), max_length=24, choices=CaseStatus.choices)

    class Meta:
        ordering = ["kind__order", "pk"]
        verbose_name = _("archive document")
        verbose_name_plural = _("archive documents")

    def __str__(self) -> str:
        return f"{self.kind} · {self.attachment}"


class SubsidyPayment(models.Model):
    """A subsidy payment (via the 一卡通 card). One per case; a supplementary one needs a bureau reason."""

    case = models.ForeignKey(
        RenovationCase, on_delete=models.PROTECT, related_name="payments", verbose_name=_("renovation case")
    )
    paid_on = models.DateField(_("paid on"), validators=[event_date])
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)
    voucher_number = models.CharField(_("voucher number"), max_length=50)
    is_supplementary = models.BooleanField(_("supplementary payment"), default=False)
    reason = models.TextField(_("reason"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["paid_on", "pk"]
        verbose_name = _("subsidy payment")
        verbose_name_plural = _("subsidy payments")
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(is_supplementary=False),
                name="payment_once_per_case",
                violation_error_message=_("This case has already been paid."),
            ),
            models.UniqueConstraint(
                fields=["case", "voucher_number"],
                name="payment_voucher_once_per_case",
                violation_error_message=_("A payment with this voucher number is already recorded."),
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=Q(is_supplementary=False) | ~Q(reason=""), name="supplementary_payment_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} ¥{self.amount}"
