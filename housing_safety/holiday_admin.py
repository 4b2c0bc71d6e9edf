"""The holiday table in the admin (节假日安排): a year with its notice, and its days in an inline. Saving a year
recomputes the working-day deadlines it touches and tells the people whose deadline moved (housing_safety.holidays)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import holidays
from .models import HolidayDay, HolidayYear


class HolidayDayFormSet(forms.BaseInlineFormSet):
    def validate_unique(self):
        """A date listed twice, said on the row in Chinese (Django's own message names the field by its code)."""
        seen, duplicate = set(), False
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            day = form.cleaned_data.get("day")
            if day is not None and day in seen:
                form.add_error("day", _("%(day)s is listed twice.") % {"day": f"{day:%Y-%m-%d}"})
                duplicate = True
            seen.add(day)
        if not duplicate:
            super().validate_unique()


class HolidayDayInline(admin.TabularInline):
    model = HolidayDay
    formset = HolidayDayFormSet
    fields = ("day", "kind", "name")
    extra = 3


class HolidayYearForm(forms.ModelForm):
    class Meta:
        model = HolidayYear
        fields = ("year", "notice_number", "notice_date")

    def clean_year(self):
        year = self.cleaned_data["year"]
        if HolidayYear.objects.filter(year=year).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("The holidays of %(year)s are entered already: change that year.") % {
                "year": year
            })  # fmt: skip
        return year


@admin.register(HolidayYear)
class HolidayYearAdmin(admin.ModelAdmin):
    """One year per State Council notice; the year itself is fixed once saved (a different year is a new row)."""

    form = HolidayYearForm
    inlines = [HolidayDayInline]
    list_display = ("year", "notice_number", "notice_date", "source", "days_off", "entered_by", "entered_at")
    list_select_related = ("entered_by",)
    readonly_fields = ("source", "entered_by", "entered_at")
    actions = None  # removing years goes through the change page, which recomputes

    def get_queryset(self, request):
        from django.db.models import Count, Q

        return super().get_queryset(request).annotate(off=Count("days", filter=Q(days__kind=HolidayDay.Kind.OFF)))

    @admin.display(description=_("days off"))
    def days_off(self, obj):
        return getattr(obj, "off", None)

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "year") if obj else self.readonly_fields

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if str(initial.get("year", "")).isdigit():
            initial["year"] = int(initial["year"])
        else:
            initial.pop("year", None)
        return initial

    def save_model(self, request, obj, form, change):
        # The days as deadlines were counted so far, read before anything of this save reaches the database.
        request._holidays_before = holidays.days_before_change(obj.year)
        obj.entered_by, obj.source = request.user, HolidayYear.Source.ENTERED
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        year = form.instance.year
        moved = holidays.year_changed(year=year, before=request._holidays_before, actor=request.user)
        if moved:
            self.message_user(
                request,
                ngettext(
                    "The deadlines of %(count)d record were recomputed with the holidays of %(year)s; its people "
                    "were told.",
                    "The deadlines of %(count)d records were recomputed with the holidays of %(year)s; their people "
                    "were told.",
                    moved,
                )
                % {"count": moved, "year": year},
                messages.WARNING,
            )

    def delete_model(self, request, obj):
        year = obj.year
        before = holidays.days_before_change(year)
        super().delete_model(request, obj)
        holidays.year_changed(year=year, before=before, actor=request.user)
