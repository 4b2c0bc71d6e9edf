"""Demo appraisals, secured-housing arrangements and placards for the demo households (deterministic, idempotent)."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from households.models import Dwelling, Household

from . import services
from .models import Appraisal, ComponentGrade, FindingKind, Revisit, SecuredHousing
from .selectors import SAFE_STATUSES, with_housing_status

GRADE_WEIGHTS = {"A": 34, "B": 34, "C": 19, "D": 13}
COMPONENT_FOR_GRADE = {"A": "a", "B": "b", "C": "c", "D": "d"}
RECOMMENDATION = {"A": "none", "B": "none", "C": "repair", "D": "rebuild"}
ORGANISATIONS = ["漳平市住建局村镇站", "龙岩某房屋安全鉴定公司（演示）"]


def seed_appraisals(admin) -> None:
    rng = random.Random(2021)
    today = timezone.localdate()
    # The base villages' households not yet registered wait for their survey (base_village_demo), not appraised here.
    dwellings = (
        Dwelling.objects.filter(household__village__is_demo=True)
        .exclude(household__status=Household.Status.UNREGISTERED)
        .select_related("household__village")
        .order_by("pk")
    )
    appraised = set(Appraisal.objects.values_list("dwelling_id", flat=True).distinct())
    new = []  # recorded together, in this order, by one set-based service
    for dwelling in dwellings:
        draw = rng.random()
        grades = [rng.choices(list(GRADE_WEIGHTS), weights=list(GRADE_WEIGHTS.values()))[0]]
        if rng.random() < 0.12:
            grades = ["D", "A"]  # repaired since: an old D superseded by a newer A
        days_ago = [rng.randrange(400, 900), rng.randrange(20, 380)]
        leaking = rng.random() < 0.08
        if draw < 0.22 or dwelling.pk in appraised:  # about a fifth stay unappraised
            continue
        for grade, ago in zip(grades, days_ago, strict=False):
            appraised_on = max(today - datetime.timedelta(days=ago), datetime.date(dwelling.year_built or 1950, 12, 31))
            component = COMPONENT_FOR_GRADE[grade]
            new.append(
                Appraisal(
                    dwelling=dwelling,
                    kind=Appraisal.Kind.FORMAL if grade in "CD" else Appraisal.Kind.ASSESSMENT,
                    appraised_on=min(appraised_on, today),
                    organisation=ORGANISATIONS[dwelling.pk % 2],
                    appraisers="技术员甲、技术员乙（演示）",
                    foundation="b" if grade != "A" else "a",
                    load_bearing_walls=component,
                    timber_frame=component if dwelling.structure_type != "brick_concrete" else ComponentGrade.ABSENT,
                    roof_truss="b" if grade != "A" else "a",
                    concrete_frame=ComponentGrade.ABSENT,
                    floor_roof_slab="b" if grade != "A" else "a",
                    is_leaking=leaking and grade in "AB",
                    grade=grade,
                    recommendation=RECOMMENDATION[grade],
                )
            )
    services.record_appraisals(actor=admin, appraisals=new)
    _seed_secured_and_placards(admin, rng, today)
    _seed_quarterly_revisit(admin, today)


def _seed_secured_and_placards(admin, rng: random.Random, today: datetime.date) -> None:
    demo = Household.objects.filter(village__is_demo=True).order_by("pk")
    if not SecuredHousing.objects.filter(household__in=demo).exists():
        for household in demo[5::37]:
            services.save_secured_housing(
                actor=admin,
                arrangement=SecuredHousing(
                    household=household,
                    kind=rng.choice(SecuredHousing.Kind.values),
                    since=today - datetime.timedelta(days=200),
                ),
            )
    # Every covered household's house gets its placard, whatever its status ("贫困户房屋安全状况制牌上墙", issue 24):
    # a dangerous house's names its grade and the action under way, an unappraised one's reads 待鉴定. Half of the
    # safe ones and of the others are on the wall; the rest are past 30 June without one (the late list).
    covered = with_housing_status(demo.filter(village__township__code__in=["350881100", "350881101", "350881105"]))
    covered = list(covered.filter(status=Household.Status.ACTIVE).select_related("village"))
    issued = services.issue_placards(actor=admin, households=covered)
    safe = [p for p in issued if p.status in SAFE_STATUSES]
    others = [p for p in issued if p.status not in SAFE_STATUSES]
    for placard in safe[::2] + others[::2]:
        services.record_placard_installation(actor=admin, placard=placard, installed_on=today)


def _seed_quarterly_revisit(admin, today: datetime.date) -> None:
    """This quarter's revisit campaign (every vulnerable house, lived in or not), and one visit of the plan's case:
    the old C/D house of a household owning a safe one, marked as left, found still lived in (已有安全住房却仍住在
    老旧危房): the household shows as 危房 with its flag."""
    campaign, _created = services.launch_quarterly_revisits(day=today, actor=None)
    old_houses = (
        campaign.revisits.filter(
            status=Revisit.Status.PENDING,
            dwelling__is_occupied=False,
            dwelling__current_grade__in=["C", "D"],
            dwelling__household__village__is_demo=True,
            dwelling__household__dwellings__current_grade__in=["A", "B"],
        )
        .select_related("dwelling")
        .order_by("dwelling__current_grade", "pk")
    )
    if campaign.revisits.filter(status=Revisit.Status.DONE, still_lived_in=True).exists():
        return
    revisit = old_houses.last()  # a D house when there is one
    if revisit is not None:
        services.record_revisit(
            actor=admin,
            revisit=revisit,
            visited_on=today,
            findings=[FindingKind.LIVES_IN_OLD_DANGEROUS],
            outcome=Revisit.Outcome.NONE,
            still_lived_in=True,
            notes="家中老人仍睡在老屋（演示）",
        )
