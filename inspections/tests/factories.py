"""Factories for appraisals and secured-housing arrangements (valid by default)."""

from __future__ import annotations

import datetime

import factory

from households.tests.factories import DwellingFactory, HouseholdFactory
from inspections.models import Appraisal, SecuredHousing
from inspections.services import refresh_current_grades

# A past date well after DwellingFactory's year_built (1985).
DEFAULT_APPRAISED_ON = datetime.date(2025, 6, 1)


class AppraisalFactory(factory.django.DjangoModelFactory):
    """A grade-B assessment signed by two appraisers: every component b, no concrete frame."""

    class Meta:
        model = Appraisal

    dwelling = factory.SubFactory(DwellingFactory)
    kind = Appraisal.Kind.ASSESSMENT
    appraised_on = DEFAULT_APPRAISED_ON
    organisation = "漳平市住建局鉴定组"
    appraisers = "张工、李工"
    foundation = "b"
    load_bearing_walls = "b"
    timber_frame = "b"
    roof_truss = "b"
    concrete_frame = "n"
    floor_roof_slab = "b"
    site_hazard = False
    is_leaking = False
    grade = "B"
    recommendation = Appraisal.Recommendation.NONE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Like record_appraisal, keep the dwelling's stored current grade and the household's home state in step.
        appraisal = super()._create(model_class, *args, **kwargs)
        refresh_current_grades(household_ids=[appraisal.dwelling.household_id])
        return appraisal


class SecuredHousingFactory(factory.django.DjangoModelFactory):
    """An open-ended arrangement (no `until`) that started in the past."""

    class Meta:
        model = SecuredHousing

    household = factory.SubFactory(HouseholdFactory)
    kind = SecuredHousing.Kind.HAPPINESS_COURTYARD
    since = datetime.date(2025, 1, 1)
    until = None
    address = "新桥镇幸福大院3号"
