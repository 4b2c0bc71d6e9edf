"""The plan's tasks and mechanisms (rectification.models.PlanItem): which one a problem falls short of by default,
and the dates the plan sets for them. The titles, units and the deadlines' words are the bureau's data; the dates
below are the plan's own rules, each computed for any year.

The plan: "6月底前完成" (task 一), "4月份完成，五月提交龙岩市审核" (task 三), "每季度跟踪回访排查" (mechanism 2),
"牵头单位按季度报市纪委监委" (四（二）). The units' reports' dates (四（四）: 每月23日, 11月10日) are reporting's
(reporting.services.report_due_on, from REPORT_DUE_DAY and YEAR_END_SUMMARY_DUE)."""

from __future__ import annotations

import datetime

from .models import PlanItem, Problem

# A problem's task or mechanism where the plan makes it plain (migration 0012 applies the same to the problems it
# found): by kind (placards are task 一's "制牌上墙"; the data task 三's "信息…比对，确保一致"; the look-back's
# findings ("返危", "仍住在老旧危房", "联体房", "漏雨透风") and the archives ("农户档案") task 二's), else by source (a
# revisit is mechanism 2's "跟踪回访", a helper's report mechanism 3's "动态监测", a complaint mechanism 4's
# "举报投诉").
K, S = Problem.Kind, Problem.Source
DEFAULT_BY_KIND = {
    K.PLACARD_MISSING: (PlanItem.Kind.TASK, 1),
    K.DATA_MISMATCH: (PlanItem.Kind.TASK, 3),
    K.MISSING_DOCUMENTS: (PlanItem.Kind.TASK, 2),
    K.NEW_DAMAGE: (PlanItem.Kind.TASK, 2),
    K.LIVES_IN_OLD_DANGEROUS: (PlanItem.Kind.TASK, 2),
    K.CONNECTED_HAZARD: (PlanItem.Kind.TASK, 2),
    K.LEAKING: (PlanItem.Kind.TASK, 2),
}
DEFAULT_BY_SOURCE = {
    S.REVISIT: (PlanItem.Kind.MECHANISM, 2),
    S.HELPER_REPORT: (PlanItem.Kind.MECHANISM, 3),
    S.COMPLAINT: (PlanItem.Kind.MECHANISM, 4),
}


def default_plan_item(kind: str, source: str) -> PlanItem | None:
    """The task or mechanism a new problem of this kind and source falls under, when the plan makes it plain (and
    the bureau has kept that item); else none, for the township to choose."""
    key = DEFAULT_BY_KIND.get(kind) or DEFAULT_BY_SOURCE.get(source)
    if key is None:
        return None
    return PlanItem.objects.filter(kind=key[0], number=key[1]).first()


def june_end(year: int) -> datetime.date:
    """Task 一: "6月底前全面完成…6月底前完成贫困户房屋安全状况制牌上墙"."""
    return datetime.date(year, 6, 30)


def data_entry_dates(year: int) -> tuple[datetime.date, datetime.date]:
    """Task 三: "4月份完成，五月提交龙岩市审核": entry done by 30 April, sent to Longyan by 31 May."""
    return datetime.date(year, 4, 30), datetime.date(year, 5, 31)


def quarter_of(day: datetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> datetime.date:
    return datetime.date(year, quarter * 3 - 2, 1)


def quarter_end(year: int, quarter: int) -> datetime.date:
    """The last day of a quarter ("每季度"): revisits of a quarter are due by it."""
    if quarter == 4:
        return datetime.date(year, 12, 31)
    return datetime.date(year, quarter * 3 + 1, 1) - datetime.timedelta(days=1)


def previous_quarter(day: datetime.date) -> tuple[int, int]:
    year, quarter = quarter_of(day)
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def lead_report_due(year: int, quarter: int) -> datetime.date:
    """ "牵头单位按季度报市纪委监委": the report of a quarter goes out on the first day of the next (the quarterly job
    of reporting.services.send_quarterly_lead_report)."""
    return quarter_end(year, quarter) + datetime.timedelta(days=1)
