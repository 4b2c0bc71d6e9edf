"""The plan's tasks and mechanisms as data (issue 24): each numbered task of 整治内容 and each mechanism with its
responsible units and deadline, and the problem list's 任务/机制 so that a township's list follows the plan's two
dimensions ("从落实任务和4项机制两方面排查短板不足和存在问题")."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from households.models import Unit
from housing_safety.tests.kit import body
from rectification import plan, services
from rectification.models import PlanItem, Problem

pytestmark = pytest.mark.django_db
D = datetime.date


def item(kind: str, number: int) -> PlanItem:
    return PlanItem.objects.get(kind=kind, number=number)


def unit_names(plan_item: PlanItem) -> set[str]:
    return set(plan_item.responsible_units.values_list("name", flat=True))


def new_problem(actor, township, **fields) -> Problem:
    fields = {"source": Problem.Source.SELF_INSPECTION, "kind": Problem.Kind.OTHER, "description": "问题", **fields}
    return services.save_problem(actor=actor, problem=Problem(township=township, deadline=D(2026, 12, 31), **fields))


def test_the_plan_has_its_four_tasks_and_four_mechanisms_in_its_words(xinqiao):
    """二、整治内容 "（一）按时完成动态新增贫困户住房安全有保障任务 …（二）持续开展贫困户住房安全“回头看” …（三）全面完成
    住房安全有保障信息审核录入 …（四）加快危房改造和“造福工程”搬迁", and "（五）强化落实4项工作机制": 信息共享机制,
    跟踪回访机制, 动态监测机制, 举报投诉机制; each with the plan's deadline ("6月底前", "4月份完成，五月提交龙岩市审核",
    "每季度")."""
    tasks = PlanItem.objects.filter(kind=PlanItem.Kind.TASK).order_by("number")
    assert [(t.number, t.title) for t in tasks] == [
        (1, "按时完成动态新增贫困户住房安全有保障任务"),
        (2, "持续开展贫困户住房安全“回头看”"),
        (3, "全面完成住房安全有保障信息审核录入"),
        (4, "加快危房改造和“造福工程”搬迁"),
    ]
    mechanisms = PlanItem.objects.filter(kind=PlanItem.Kind.MECHANISM).order_by("number")
    assert [m.title for m in mechanisms] == ["信息共享机制", "跟踪回访机制", "动态监测机制", "举报投诉机制"]
    assert item("task", 1).deadline == "6月底前"
    assert item("task", 3).deadline == "4月份完成，五月提交龙岩市审核"
    assert item("mechanism", 2).deadline == "每季度"
    assert str(item("task", 1)) == "任务一 按时完成动态新增贫困户住房安全有保障任务"
    assert str(item("mechanism", 4)) == "机制4 举报投诉机制"


def test_each_item_names_the_units_the_plan_makes_responsible(xinqiao):
    """ "（责任单位：市住建局、扶贫办、各乡镇街道）" for task 一; "（责任单位：市农业农村局、住建局、民政局、拱桥镇政府、永福镇
    政府）" for task 四 (two townships only, not every one); "（责任单位：市住建、扶贫、民政、退役军人、残联部门、各乡镇街道）"
    for mechanism 1; "（责任单位：市住建局）" for mechanism 4."""
    bureau = "漳平市住房和城乡建设局"
    assert unit_names(item("task", 1)) == {bureau, "漳平市扶贫开发办公室"}
    assert item("task", 1).every_township
    assert unit_names(item("task", 4)) == {
        "漳平市农业农村局",
        bureau,
        "漳平市民政局",
        "拱桥镇人民政府",
        "永福镇人民政府",
    }
    assert not item("task", 4).every_township
    assert unit_names(item("mechanism", 1)) == {
        bureau,
        "漳平市扶贫开发办公室",
        "漳平市民政局",
        "漳平市退役军人事务局",
        "漳平市残疾人联合会",
    }
    assert unit_names(item("mechanism", 4)) == {bureau} and not item("mechanism", 4).every_township
    # a township's 人民政府 holds 民政 in its name: it is no civil affairs bureau
    assert not Unit.objects.filter(kind=Unit.Kind.TOWNSHIP, plan_items=item("mechanism", 1)).exists()


def test_a_missing_placard_falls_under_task_one(staff, xinqiao):
    """Task 一: "6月底前完成贫困户房屋安全状况制牌上墙": a placard missing is that task's shortfall."""
    problem = new_problem(staff, xinqiao, kind=Problem.Kind.PLACARD_MISSING, source=Problem.Source.REVISIT)
    assert problem.plan_item == item("task", 1)


def test_a_data_mismatch_falls_under_task_three(staff, xinqiao):
    """Task 三: "加强住建、扶贫部门建档立卡贫困户住房安全有关信息共享和比对，确保一致"."""
    assert new_problem(staff, xinqiao, kind=Problem.Kind.DATA_MISMATCH).plan_item == item("task", 3)


def test_the_look_backs_findings_fall_under_task_two(staff, xinqiao):
    """Task 二: "跟踪排查处置各类贫困户已有安全住房却仍住在老旧危房、因非贫困户不配合加固导致联体房存在安全隐患、房屋结构
    安全但漏雨透风影响居住质量等问题；逐户完善农村危房改造审批程序、农户档案"."""
    for kind in (Problem.Kind.LIVES_IN_OLD_DANGEROUS, Problem.Kind.LEAKING, Problem.Kind.MISSING_DOCUMENTS):
        assert new_problem(staff, xinqiao, kind=kind).plan_item == item("task", 2)


def test_a_problem_of_no_listed_kind_follows_its_source_mechanism(staff, xinqiao):
    """ "4．举报投诉机制": a complaint's problem; "3．动态监测机制": a helper's report's; a township's own finding of no
    listed kind is left for the township to place."""
    assert new_problem(staff, xinqiao, source=Problem.Source.COMPLAINT).plan_item == item("mechanism", 4)
    assert new_problem(staff, xinqiao, source=Problem.Source.HELPER_REPORT).plan_item == item("mechanism", 3)
    assert new_problem(staff, xinqiao).plan_item is None


def test_a_chosen_task_or_mechanism_is_kept(staff, xinqiao):
    """ "从落实任务和4项机制两方面": the township may place a problem itself; its choice stands over the default."""
    chosen = item("task", 4)
    assert new_problem(staff, xinqiao, kind=Problem.Kind.PLACARD_MISSING, plan_item=chosen).plan_item == chosen


def test_the_plans_dates(xinqiao):
    """ "6月底前" (task 一), "4月份完成，五月提交龙岩市审核" (task 三), "每季度" (mechanism 2) and "牵头单位按季度报市纪委监委":
    computed for any year."""
    assert plan.june_end(2027) == D(2027, 6, 30)
    assert plan.data_entry_dates(2027) == (D(2027, 4, 30), D(2027, 5, 31))
    assert [plan.quarter_end(2027, q) for q in (1, 2, 3, 4)] == [
        D(2027, 3, 31), D(2027, 6, 30), D(2027, 9, 30), D(2027, 12, 31)
    ]  # fmt: skip
    assert plan.previous_quarter(D(2027, 2, 1)) == (2026, 4)
    assert plan.lead_report_due(2026, 4) == D(2027, 1, 1)


def test_the_township_list_filters_and_exports_by_task_or_mechanism(client, staff, xinqiao):
    """ "建立整治问题“一乡镇（街道）一清单”": the list shows each problem's 任务/机制, filters by it, and its export (of
    what the filter shows) carries the column."""
    placard = new_problem(staff, xinqiao, kind=Problem.Kind.PLACARD_MISSING, description="门牌缺失")
    new_problem(staff, xinqiao, kind=Problem.Kind.DATA_MISMATCH, description="身份证号不一致")
    client.force_login(staff)
    url = reverse("rectification:problems")

    text = body(client.get(url, {"plan": item("task", 1).pk}))
    assert "门牌缺失" in text and "身份证号不一致" not in text
    assert "任务一" in text
    everything = body(client.get(url))
    assert "身份证号不一致" in everything and "全部任务/机制" in everything

    response = client.get(reverse("rectification:problem-export"), {"plan": item("task", 1).pk})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "任务/机制"
    assert [row[-1] for row in rows[1:]] == [str(placard.plan_item)]


def test_the_problem_page_names_its_task_or_mechanism(client, staff, xinqiao):
    """ "从落实任务和4项机制两方面": a problem's page says which task it falls short of, linked to that task's list."""
    problem = new_problem(staff, xinqiao, kind=Problem.Kind.PLACARD_MISSING)
    client.force_login(staff)
    text = body(client.get(reverse("rectification:problem", args=[problem.pk])))
    assert "任务一 按时完成动态新增贫困户住房安全有保障任务" in text
    assert f"?plan={problem.plan_item_id}" in text
