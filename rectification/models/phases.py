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
