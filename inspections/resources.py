"""Excel import (and export) of appraisals: each row becomes a new appraisal through record_appraisal."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields

from households import cleaning
from households.identity import normalise_id_number
from households.resources import CellWidget, ScopedResource, ScopedWidget, no_dwelling_numbered, no_household_with
from households.selectors import dwellings_for_user

from . import services
from .models import Appraisal, ComponentGrade, Grade

DWELLING_NO = gettext_lazy("Dwelling no.")
HEAD_ID = gettext_lazy("Head's ID number")


class DwellingWidget(ScopedWidget):
    """The dwelling by its number (from the dwelling export) or, for a one-house household, the head's ID number;
    among the importer's dwellings only (another township's is answered like an unknown number)."""

    def clean(self, value, row=None, **kwargs):
        number = cleaning.parse_int(value)
        if number:
            dwelling = dwellings_for_user(self.user).filter(pk=number).first()
            if dwelling is None:
                raise no_dwelling_numbered(number)
            return dwelling
        id_number = normalise_id_number(cleaning.plain(row.get(str(HEAD_ID))))
        if not id_number:
            raise ValueError(_("Give the dwelling no. or the head's ID number."))
        dwellings = list(dwellings_for_user(self.user).filter(household__id_number=id_number)[:2])
        if not dwellings:
            raise no_household_with(id_number)
        if len(dwellings) > 1:
            raise ValueError(_("This household has several dwellings: give the dwelling no."))
        return dwellings[0]

    def render(self, value, obj=None, **kwargs):
        return value.pk if value else ""


def _choice_parser(choices, aliases: dict[str, str], what):
    """A cell parser accepting a choice's value, its Chinese label or a common spelling."""

    def parse(value):
        raw = cleaning.plain(value)
        if not raw:
            return None
        lookup = {
            **{str(label): code for code, label in choices},
            **{code: code for code, _label in choices},
            **aliases,
        }
        code = lookup.get(raw) or lookup.get(raw.lower()) or lookup.get(raw.upper())
        if code is None:
            raise ValueError(_("“%(value)s” is not a valid %(what)s.") % {"value": raw, "what": what})
        return code

    return parse


parse_component = _choice_parser(
    ComponentGrade.choices, {"无": "n", "-": "n", "/": "n", "—": "n"}, gettext_lazy("component grade")
)
parse_grade = _choice_parser(Grade.choices, {f"{g}级": g for g in "ABCD"}, gettext_lazy("house grade"))
parse_kind = _choice_parser(Appraisal.Kind.choices, {"评定": "assessment", "鉴定": "formal"}, gettext_lazy("kind"))
parse_recommendation = _choice_parser(
    Appraisal.Recommendation.choices,
    {
        "无": "none",
        "修缮": "repair",
        "加固": "repair",
        "修缮加固": "repair",
        "重建": "rebuild",
        "拆除重建": "rebuild",
        "搬迁": "relocate",
    },
    gettext_lazy("recommendation"),
)


class AppraisalResource(ScopedResource):
    personal_fields = ("dwelling__household__id_number",)  # the head's ID number, masked for roles without it
    dwelling = fields.Field(attribute="dwelling", column_name=DWELLING_NO, widget=DwellingWidget())
    head_id = fields.Field(attribute="dwelling__household__id_number", column_name=HEAD_ID, readonly=True)
    kind = fields.Field(
        attribute="kind", column_name=gettext_lazy("Kind"), widget=CellWidget(parse_kind), saves_null_values=False
    )
    appraised_on = fields.Field(
        attribute="appraised_on", column_name=gettext_lazy("Appraised on"), widget=CellWidget(cleaning.parse_date)
    )
    organisation = fields.Field(
        attribute="organisation", column_name=gettext_lazy("Appraising organisation"), widget=CellWidget(cleaning.text)
    )
    appraisers = fields.Field(
        attribute="appraisers", column_name=gettext_lazy("Appraisers"), widget=CellWidget(cleaning.text)
    )
    site_hazard = fields.Field(
        attribute="site_hazard",
        column_name=gettext_lazy("Site hazard"),
        widget=CellWidget(lambda v: bool(cleaning.parse_bool(v))),
    )
    is_leaking = fields.Field(
        attribute="is_leaking",
        column_name=gettext_lazy("Leaking or drafty"),
        widget=CellWidget(lambda v: bool(cleaning.parse_bool(v))),
    )
    grade = fields.Field(attribute="grade", column_name=gettext_lazy("House grade"), widget=CellWidget(parse_grade))
    recommendation = fields.Field(
        attribute="recommendation",
        column_name=gettext_lazy("Recommendation"),
        widget=CellWidget(parse_recommendation),
        saves_null_values=False,
    )
    notes = fields.Field(attribute="notes", column_name=gettext_lazy("Notes"), widget=CellWidget(cleaning.text))

    class Meta:
        model = Appraisal
        fields = (
            "dwelling",
            "head_id",
            "kind",
            "appraised_on",
            "organisation",
            "appraisers",
            *[name for name, _label in Appraisal.COMPONENTS],
            "site_hazard",
            "is_leaking",
            "grade",
            "recommendation",
            "notes",
        )
        clean_model_instances = True

    def __init__(self, user=None, **kwargs):
        super().__init__(user=user, **kwargs)
        for name, label in Appraisal.COMPONENTS:
            self.fields[name] = fields.Field(attribute=name, column_name=label, widget=CellWidget(parse_component))

    def get_instance(self, instance_loader, row):
        return None  # every row is a new appraisal: appraisals are records, never updated by import

    def township_of(self, instance):
        return instance.dwelling.household.village.township_id if instance.dwelling_id else None

    def do_instance_save(self, instance, is_create):
        services.record_appraisal(actor=self.user, appraisal=instance)
