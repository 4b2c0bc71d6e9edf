"""Reporting: the units' monthly reports and year-end summaries, the consolidated monthly report, and the memory
of what the daily deadline sweep has already announced."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from households.models import Grade, HouseholdCategory, HousingStatus, Township, Unit, Village
from housing_safety.dates import PlausibleYear, due_date, event_date
from housing_safety.models import MadeFileStatus
from rectification.models import CASE_STEPS

from .datasets import EXPORT_FIELDS


class ReportKind(models.TextChoices):
    MONTHLY = "monthly", _("Monthly report (月度报告)")
    YEAR_END = "year_end", _("Year-end summary (工作总结)")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("To submit (待报送)")
    LATE = "late", _("Overdue, not submitted (逾期未报)")
    SUBMITTED = "submitted", _("Submitted (已报送)")


def stamped_copy_upload_to(instance, filename: str) -> str:
    # A random stored name, as attachments have: the original name is kept in the database, never in a path.
    return f"reports/stamped/{instance.period:%Y-%m}/{uuid.uuid4().hex}"


class MonthlyReport(models.Model):
    """One unit's report for one month (or its year-end summary): the figures, filled in by the system and
    refreshed until submission, and the unit's own narrative."""

    Kind = ReportKind
    Status = ReportStatus

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="reports", verbose_name=_("unit"))
    kind = models.CharField(_("kind"), max_length=10, choices=ReportKind.choices, default=ReportKind.MONTHLY)
    period = models.DateField(
        _("month"), help_text=_("The first day of the month reported on."), validators=[event_date]
    )
    due_on = models.DateField(_("due on"), validators=[due_date])
    figures = models.JSONField(_("figures"), default=dict, editable=False)
    figures_at = models.DateTimeField(_("figures as of"), null=True, editable=False, validators=[event_date])
    progress = models.TextField(_("progress this month (本月整治工作进展情况)"), blank=True)
    problems_handled = models.TextField(
        _("prominent problems and how they were handled (突出问题处理情况)"), blank=True
    )
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(
        _("submitted at"), null=True, blank=True, editable=False, validators=[event_date]
    )
    on_time = models.BooleanField(_("on time"), null=True, editable=False)
    # The signed and stamped paper copy (盖章件), scanned: received once the report is submitted.
    stamped_copy = models.FileField(
        _("stamped copy (scan)"), upload_to=stamped_copy_upload_to, max_length=200, blank=True, editable=False
    )
    stamped_copy_type = models.CharField(_("stamped copy's type"), max_length=40, blank=True, editable=False)
    stamped_copy_name = models.CharField(_("stamped copy's file name"), max_length=200, blank=True, editable=False)
    stamped_received_at = models.DateTimeField(
        _("stamped copy received at"), null=True, blank=True, editable=False, validators=[event_date]
    )
    stamped_received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("stamped copy uploaded by"),
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["figures", "figures_at"])

    updated_at = models.DateTimeField(_("updated at"), auto_now=True)  # the API's ?changed_since=

    class Meta:
        ordering = ["-period", "unit__kind", "unit__name"]
        verbose_name = _("unit report")
        verbose_name_plural = _("unit reports")
        permissions = [
            ("submit_monthlyreport", _("Can fill in and submit its own unit's reports")),
            ("view_dashboard", _("Can view the dashboard")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "kind", "period"],
                name="one_report_per_unit_kind_month",
                violation_error_message=_("This unit already has this report for this month."),
            ),
            models.CheckConstraint(
                condition=Q(status="submitted", submitted_at__isnull=False, on_time__isnull=False)
                | (~Q(status="submitted") & Q(submitted_at__isnull=True)),
                name="report_submitted_iff_submitted_at",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "kind", "status"], name="report_period_status_idx"),
            models.Index(fields=["updated_at", "id"], name="report_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.period:%Y-%m} · {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("reporting:report", args=[self.pk])


LATE_BY_TOWNSHIP = "late_by_township"  # in a consolidated report's key figures: its late items per township


class ConsolidatedReport(models.Model):
    """The city's consolidated monthly report, built on the 23rd and e-mailed to the bureau's officials."""

    period = models.DateField(_("month"), unique=True, validators=[event_date])
    built_at = models.DateTimeField(_("built at"), validators=[event_date])
    workbook = models.FileField(_("workbook"), upload_to="reports/", max_length=200)
    chart = models.FileField(_("chart"), upload_to="reports/", max_length=200, blank=True)
    key_figures = models.JSONField(_("key figures"), default=dict)
    email = models.ForeignKey(
        "housing_safety.OutgoingEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("e-mail"),
    )

    class Meta:
        ordering = ["-period"]
        verbose_name = _("consolidated monthly report")
        verbose_name_plural = _("consolidated monthly reports")

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}"


class OverdueKind(models.TextChoices):
    APPRAISAL = "appraisal", _("Appraisal overdue")
    REVISIT = "revisit", _("Revisit overdue")
    PROBLEM = "problem", _("Problem past its deadline")
    CASE = "case", _("Renovation case stalled")
    COMPLAINT = "complaint", _("Complaint overdue")
    LEAD = "lead", _("Lead without receipt")
    DANGEROUS = "dangerous", _("Dangerous house without action")
    RENOVATION = "renovation", _("Renovation past the plan's deadline")
    PLACARD = "placard", _("Placard not on the wall")


class OverdueItem(models.Model):
    """Something the daily sweep found late: kept while it stays late, so each unit hears about it once."""

    Kind = OverdueKind

    kind = models.CharField(_("kind"), max_length=10, choices=OverdueKind.choices)
    object_id = models.PositiveBigIntegerField(_("record id"))
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("township")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("responsible unit")
    )
    label = models.CharField(_("item"), max_length=200)
    due_on = models.DateField(_("due on"), validators=[due_date])
    first_seen_on = models.DateField(_("overdue since (sweep)"), validators=[event_date])
    cleared_on = models.DateField(_("no longer overdue on"), null=True, blank=True, validators=[event_date])
    announced = models.BooleanField(_("e-mailed to the unit"), default=False)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("overdue item")
        verbose_name_plural = _("overdue items")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id"], condition=Q(cleared_on__isnull=True), name="one_open_overdue_item"
            )
        ]
        indexes = [models.Index(fields=["first_seen_on", "unit"], name="overdue_seen_unit_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"


class ExportTemplate(models.Model):
    """The columns of one export for the provincial system: [[header, field], ...] in order. The fields offered
    are those of reporting.datasets.EXPORT_FIELDS; an empty header takes the field's usual Chinese name."""

    dataset = models.CharField(
        _("dataset"),
        max_length=12,
        unique=True,
        choices=[
            ("households", _("Households")),
            ("dwellings", _("Dwellings")),
            ("appraisals", _("Appraisals")),
            ("cases", _("Renovation cases")),
        ],
    )
    columns = models.JSONField(_("columns"), default=list, help_text=_('[["户主姓名", "head_name"], ...] in order.'))
    notes = models.CharField(_("notes"), max_length=200, blank=True, help_text=_("For example: the 2026 template."))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("export template")
        verbose_name_plural = _("export templates")

    def __str__(self) -> str:
        return self.get_dataset_display()

    def clean(self):
        from django.core.exceptions import ValidationError

        allowed = EXPORT_FIELDS[self.dataset].fields if self.dataset in EXPORT_FIELDS else {}
        # Any JSON comes in through the admin's text box (a number, null, an object: a 500 here before).
        columns = self.columns if isinstance(self.columns, list) else [self.columns]
        wrong = [
            str(item)[:100]
            for item in columns
            if not (
                isinstance(item, list | tuple)
                and len(item) == 2
                and isinstance(item[0], str)
                and isinstance(item[1], str)
                and item[1] in allowed
            )
        ]
        if wrong or not self.columns:
            raise ValidationError(
                {
                    "columns": _("Each column is [header, field], with a field among: %(fields)s. Not valid: %(wrong)s")
                    % {"fields": ", ".join(allowed), "wrong": "; ".join(wrong) or "-"}
                }
            )


class ExportFile(models.Model):
    """A large export built in the background for one user; only that user downloads it."""

    Status = MadeFileStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    dataset = models.CharField(_("dataset"), max_length=12)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(_("file"), upload_to="exports/", max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, validators=[event_date])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("export file")
        verbose_name_plural = _("export files")

    def __str__(self) -> str:
        return f"{self.dataset} {self.created_at:%Y-%m-%d %H:%M}"


class SubmissionReview(models.TextChoices):
    PENDING = "pending", _("Awaiting Longyan's review (待审核)")
    PASSED = "passed", _("Passed (通过)")
    RETURNED = "returned", _("Returned (退回)")


class DataSubmission(models.Model):
    """The year's data sent to Longyan for review: "全面完成住房安全有保障信息审核录入……4月份完成，五月提交龙岩市审核".
    One per year, with the files sent (the provincial-system exports as they stood, or the files uploaded), who sent
    them, when and how, and Longyan's answer when it comes (通过, or 退回 with its remarks)."""

    Review = SubmissionReview

    year = models.PositiveSmallIntegerField(_("year"), unique=True, validators=[PlausibleYear()])
    sent_on = models.DateField(pgettext_lazy("data submission", "sent on"), validators=[event_date])
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent by")
    )
    recipient = models.CharField(_("sent to"), max_length=100)
    method = models.CharField(
        _("how it was sent"), max_length=200, blank=True, help_text=_("For example: 省级系统报送, 公文交换, 邮寄光盘.")
    )
    review = models.CharField(
        _("Longyan's review"), max_length=10, choices=SubmissionReview.choices, default=SubmissionReview.PENDING
    )
    review_remarks = models.TextField(_("review remarks"), blank=True)
    reviewed_on = models.DateField(_("reviewed on"), null=True, blank=True, validators=[event_date])
    review_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("review recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year"]
        verbose_name = _("data submission to Longyan")
        verbose_name_plural = _("data submissions to Longyan")
        constraints = [
            models.CheckConstraint(
                condition=Q(review="pending", reviewed_on__isnull=True)
                | (~Q(review="pending") & Q(reviewed_on__isnull=False)),
                name="submission_reviewed_iff_reviewed_on",
            ),
            models.CheckConstraint(
                condition=~Q(review="returned", review_remarks=""), name="submission_returned_has_remarks"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} · {self.recipient}"

    def get_absolute_url(self) -> str:
        return reverse("reporting:submission", args=[self.year])


class SubmissionFile(models.Model):
    """One file sent with a year's submission: a provincial-system export built when the sending was recorded, or
    a file uploaded. `personal`: it carries full ID and phone numbers, so only who may see them downloads it."""

    submission = models.ForeignKey(
        DataSubmission, on_delete=models.PROTECT, related_name="files", verbose_name=_("submission")
    )
    dataset = models.CharField(_("dataset"), max_length=12, blank=True)
    name = models.CharField(_("file name"), max_length=200)
    file = models.FileField(_("file"), upload_to="submissions/", max_length=200)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    personal = models.BooleanField(_("full ID and phone numbers"), default=True)
    sending = models.PositiveSmallIntegerField(
        _("sending"), default=1, help_text=_("1 for the first sending of the year, 2 for its resending after a return…")
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("submitted file")
        verbose_name_plural = _("submitted files")

    def __str__(self) -> str:
        return self.name


# The dashboard's figures per area (reporting.selectors.AREA_KEYS) kept as columns, but the share (a quotient of
# two of them) and the subsidies (money, below). reporting/tests/test_rollup.py checks the list against AREA_KEYS.
MONEY_FIGURES = ("subsidy_paid_month", "subsidy_paid_year")
COUNT_FIGURES = (
    "covered",
    *(f"category_{code}" for code in HouseholdCategory.Code.values),
    "appraised", "secured_unappraised", "unappraised", "appraisal_overdue",
    *(f"grade_{grade}" for grade in Grade.values),
    *(f"status_{status}" for status in HousingStatus.values),
    "dangerous_houses", "dangerous_with_case", "dangerous_without_case", "dangerous_late", "cases_open",
    *(f"step_{step}" for step in CASE_STEPS),
    "cases_completed_month", "cases_stalled", "renovations_late", "placard_households", "placard_installed",
    "placards_late", "revisits_pending", "revisits_overdue", "revisits_done", "problems_open", "problems_overdue",
    "problems_closed", "complaints_received", "complaints_closed", "complaints_open", "complaints_overdue",
)  # fmt: skip


class AreaFigures(models.Model):
    """The dashboard's figures of one village (or of a township's records that have no village: a problem or a
    complaint of the whole township), as of `day`: a maintained rollup, written only by reporting.rollup.

    A row is one place of reporting.selectors.figures' by="place" grouping: a township and a village. A case keeps
    the township it was opened in, so after its household moved the case has a row of its old township and its new
    village; summed by township or by village the rows give exactly the live figures.
    """

    township = models.ForeignKey(Township, on_delete=models.CASCADE, related_name="+", verbose_name=_("township"))
    village = models.ForeignKey(
        Village, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("village")
    )
    day = models.DateField(_("figures as of"), validators=[due_date])  # may be a day ahead (run by hand for it)
    refreshed_at = models.DateTimeField(_("refreshed at"), validators=[event_date])

    class Meta:
        verbose_name = _("area figures")
        verbose_name_plural = _("area figures")
        indexes = [models.Index(fields=["township", "village"], name="areafigures_place")]

    def __str__(self) -> str:
        return f"{self.village or self.township} {self.day}"


for _key in COUNT_FIGURES:
    AreaFigures.add_to_class(_key, models.IntegerField(default=0))
for _key in MONEY_FIGURES:
    AreaFigures.add_to_class(_key, models.DecimalField(max_digits=16, decimal_places=2, default=0))


class FiguresRefresh(models.Model):
    """The rollup's one bookkeeping row: the day its figures are for and the moment its last refresh read the
    records (every change committed before it is counted). Locked by each refresh, so two never interleave."""

    day = models.DateField(_("figures as of"), null=True, validators=[due_date])
    as_of = models.DateTimeField(_("records read at"), null=True, validators=[event_date])
    refreshed_townships = models.PositiveIntegerField(_("townships refreshed last"), default=0)

    class Meta:
        verbose_name = _("figures refresh")
        verbose_name_plural = _("figures refresh")

    def __str__(self) -> str:
        return f"{self.day} {self.as_of}"
