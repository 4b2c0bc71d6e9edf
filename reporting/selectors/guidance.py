"""包片 guidance: the key figures of the townships an official guides this year, for their home (工作台).

The plan: "市住建局深入乡镇村开展工作指导；市直有关部门随机开展督导、抽查核实" (phase 二) and
"按照……包片负责分工……加强对贫困人口住房安全排查工作抽查督促". Five queries whatever the number of townships or
households; three and the rollup's state once the dashboard's maintained figures hold the day.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Count, Q

from households.models import Household, Township
from households.selectors import dwellings_for_user
from housing_safety.workspace import figures_for
from inspections import selectors as safety
from inspections.models import SpotCheckItem
from rectification import selectors as rectification


@dataclass
class GuidedTownship:
    township: Township
    note: str = ""
    figures: dict = field(default_factory=dict)


def guided_townships(user: AbstractBaseUser, day: datetime.date) -> list[GuidedTownship]:
    """The user's 包片 townships of `day`'s year, each with: covered households, appraisals overdue, dangerous houses
    lived in without a renovation case, problems past their deadline, and sampled households still to verify. The
    first four are the dashboard's (reporting.rollup, one query) once the rollup holds `day`."""
    assignments = (
        safety.guidance_for_user(user)
        .filter(official=user, year=day.year)
        .select_related("township")
        .order_by("township__code")
    )
    rows = [GuidedTownship(a.township, a.note) for a in assignments]
    if not rows:
        return []
    ids = [row.township.pk for row in rows]
    figures = {pk: dict.fromkeys(("covered", "overdue", "dangerous", "problems", "to_verify"), 0) for pk in ids}
    from reporting import rollup  # the dashboard's maintained figures: one query for four of the five

    if figures_for(user, day) is not None and all(user.has_perm(p) for p in rollup.NEEDED_PERMISSIONS):
        for township_id, values in rollup.summed(by="township", township_ids=ids).items():
            figures[township_id].update(
                covered=values["covered"],
                overdue=values["appraisal_overdue"],
                dangerous=values["dangerous_without_case"],
                problems=values["problems_overdue"],
            )
    else:
        _count_live(user, day, ids, figures)
    to_verify = (
        SpotCheckItem.objects.filter(Q(result=SpotCheckItem.Result.PENDING), household__village__township_id__in=ids)
        .values("household__village__township_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in to_verify:
        figures[row["household__village__township_id"]]["to_verify"] = row["n"]
    for row in rows:
        row.figures = figures[row.township.pk]
    return rows


def _count_live(user: AbstractBaseUser, day: datetime.date, ids: list[int], figures: dict) -> None:
    """The four figures read from the records (before the rollup holds `day`, or for a reader it cannot serve)."""
    households = (
        safety.covered_households_for_user(user, day)
        .filter(village__township_id__in=ids)
        .values("village__township_id")
        .annotate(covered=Count("pk"), overdue=Count("pk", filter=safety.appraisal_overdue(day)))
        .order_by()
    )
    for row in households:
        figures[row["village__township_id"]].update(covered=row["covered"], overdue=row["overdue"])
    dangerous = (
        dwellings_for_user(user)
        .filter(is_occupied=True, household__status=Household.Status.ACTIVE, household__village__township_id__in=ids)
        .filter(rectification.dangerous_without_case())
        .values("household__village__township_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in dangerous:
        figures[row["household__village__township_id"]]["dangerous"] = row["n"]
    problems = rectification.problems_for_user(user).filter(township_id__in=ids)
    for township_id, counts in rectification.problem_counts(problems, "township_id", day).items():
        figures[township_id]["problems"] = counts["overdue"]
