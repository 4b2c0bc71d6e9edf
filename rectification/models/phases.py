"""The plan's work phases (三、工作安排), one row per year and phase: the bureau's data, not months in code.

The plan: "第一阶段（5月中旬-6月上旬）… 第二阶段（5月中下旬-6月底）… 第三阶段（7月上旬-10月底）…
第四阶段（11月上旬-11月底）".
Phases may overlap (一 and 二 both run in late May and early June), so on a given day several may be current.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from housing_safety.dates import due_date


class CampaignPhase(models.Model):
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    number = models.PositiveSmallIntegerField(
        _("phase number"),
        validators=[MinValueValidator(1), MaxValueValidator(9)],
        help_text=_("The plan's 第一阶段 to 第四阶段: 1 to 4."),
    )
    name = models.CharField(_("name"), max_length=60)
    starts_on = models.DateField(_("starts on"), validators=[due_date])
    ends_on = models.DateField(
        _("ends on"), validators=[due_date], help_text=_("The last day of the phase. Phases may overlap.")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["year", "number"]
        verbose_name = _("work phase")
        verbose_name_plural = _("work phases")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "number"],
                name="one_phase_number_per_year",
                violation_error_message=_("This year already has a phase with this number."),
            ),
            models.CheckConstraint(
                condition=Q(starts_on__lte=F("ends_on")),
                name="phase_starts_before_it_ends",
                violation_error_message=_("A phase cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.name}"

    def clean(self):
        super().clean()
        errors = {}
        if self.starts_on and self.ends_on and self.starts_on > self.ends_on:
            errors["ends_on"] = _("A phase cannot end before it starts.")
        for field in ("starts_on", "ends_on"):
            day = getattr(self, field)
            if self.year and day and day.year != self.year:
                errors.setdefault(
                    field, _("The date must fall within the phase's year (%(year)s).") % {"year": self.year}
                )
        if errors:
            raise ValidationError(errors)

    def is_current(self, day: datetime.date) -> bool:
        return self.starts_on <= day <= self.ends_on


class PlanItem(models.Model):
    """One numbered task of the plan's 整治内容 (（一） to （四）), one of its four mechanisms (（五）1 to 4) or one of
    its dated work requirements (四、工作要求 （二） and （四）): the plan as data the bureau edits (titles, responsible
    units, the deadline's words, order), each tied by `rule` to how the dashboard measures it from the records.

    The plan's 第一阶段 asks the townships to find problems "从落实任务和4项机制两方面": a problem names the task or
    mechanism it falls short of (Problem.plan_item)."""

    class Kind(models.TextChoices):
        TASK = "task", _("Task (整治内容)")
        MECHANISM = "mechanism", _("Mechanism (工作机制)")
        REQUIREMENT = "requirement", _("Work requirement (工作要求)")

    class Rule(models.TextChoices):
        """How the dashboard measures the item and which deadline the plan sets for it (rectification.plan)."""

        NEW_HOUSEHOLDS = "new_households", _("New households appraised, renovated and placarded by 30 June")
        REVISIT_BACK = "revisit_back", _("Look-back revisits and the problems they find")
        DATA_ENTRY = "data_entry", _("Records entered and reconciled by April, sent to Longyan in May")
        BASE_VILLAGES = "base_villages", _("Base villages' households")
        INFORMATION_SHARING = "information_sharing", _("Appraisal within a month, a dangerous house acted on at once")
        # not "quarterly_revisits": that is the beat job's name, which the schedules' admin shows as it is
        QUARTERLY_REVISITS = "revisits_each_quarter", _("Revisits every quarter")
        MONITORING = "monitoring", _("Helpers' reports acted on at once")
        COMPLAINTS = "complaints", _("Complaints handled in time")
        LEAD_REPORT = "lead_report", _("Quarterly lead report to the discipline commission")
        UNIT_REPORTS = "unit_reports", _("Monthly reports by the 23rd, year-end summary by 10 November")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    number = models.PositiveSmallIntegerField(
        _("number"),
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("The plan's number: task （一） to （四） are 1 to 4, mechanism 1 to 4, requirement （二） is 2."),
    )
    title = models.CharField(_("title"), max_length=80, help_text=_("The plan's words."))
    text = models.TextField(_("the plan's text"), blank=True)
    responsible_units = models.ManyToManyField(
        "households.Unit", blank=True, related_name="plan_items", verbose_name=_("responsible units")
    )
    every_township = models.BooleanField(
        _("every township and subdistrict"), default=False, help_text=_("The plan's 各乡镇街道.")
    )
    deadline = models.CharField(
        _("deadline (the plan's words)"), max_length=60, blank=True, help_text=_("For example 6月底前 or 每季度.")
    )
    rule = models.CharField(
        _("measured by"), max_length=24, choices=Rule.choices, unique=True,
        help_text=_("Which figures of the records the dashboard shows for this item, and the deadline it computes."),
    )  # fmt: skip
    history = HistoricalRecords(m2m_fields=[responsible_units])

    class Meta:
        ordering = ["kind", "number"]
        verbose_name = _("task or mechanism of the plan")
        verbose_name_plural = _("tasks and mechanisms of the plan")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "number"],
                name="one_plan_item_per_kind_and_number",
                violation_error_message=_("The plan already has an item of this kind with this number."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.title}"

    @property
    def label(self) -> str:
        """任务一, 机制2, 要求二: how the problem list and the dashboard name the item in short."""
        numerals = "一二三四五六七八九十"
        numeral = numerals[self.number - 1] if self.number <= len(numerals) else str(self.number)
        if self.kind == self.Kind.TASK:
            return _("Task %(number)s") % {"number": numeral}
        if self.kind == self.Kind.MECHANISM:
            return _("Mechanism %(number)s") % {"number": self.number}
        return _("Requirement %(number)s") % {"number": numeral}
