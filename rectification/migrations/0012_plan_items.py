"""The plan's tasks, mechanisms and dated work requirements as data (issue 24), with the units it names as 责任单位,
and each problem already on a list given its task or mechanism from its kind (or, for a problem of no listed kind,
its source). The bureau edits titles, units, deadlines' words and order in the admin."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

BUREAU = "住房和城乡建设局"
# (kind, number, title, the plan's deadline words, rule, units by a part of their name, every township, the text)
ITEMS = [
    ("task", 1, "按时完成动态新增贫困户住房安全有保障任务", "6月底前", "new_households",
     (BUREAU, "扶贫"), True,
     "动态新增各类贫困户危房改造任务（含新致贫的贫困户住房排查鉴定、危房改造）6月底前全面完成；脱贫的建档立卡贫困户和其他各类"
     "贫困户全面完成住房安全性评定，6月底前完成贫困户房屋安全状况制牌上墙。"),
    ("task", 2, "持续开展贫困户住房安全“回头看”", "持续开展", "revisit_back",
     (BUREAU, "应急管理"), True,
     "逐户开展排查，发现安全隐患的，立即采取修缮加固、灾后重建等措施处置到位；跟踪排查处置各类贫困户已有安全住房却仍住在老旧危房、"
     "因非贫困户不配合加固导致联体房存在安全隐患、房屋结构安全但漏雨透风影响居住质量等问题；逐户完善农村危房改造审批程序、农户档案。"),
    ("task", 3, "全面完成住房安全有保障信息审核录入", "4月份完成，五月提交龙岩市审核", "data_entry",
     (BUREAU, "扶贫"), True,
     "录入和审核建档立卡贫困户住房安全档案信息，校准、完善农村危房改造农户系统信息，加强住建、扶贫部门建档立卡贫困户住房安全"
     "有关信息共享和比对，确保一致，4月份完成，五月提交龙岩市审核。"),
    ("task", 4, "加快危房改造和“造福工程”搬迁", "", "base_villages",
     ("农业农村", BUREAU, "民政", "拱桥镇", "永福镇"), False,
     "保障革命基点村群众住房安全。对31个省定革命基点村群众的住房情况组织一次排查认定，对经认定属危旧房的进行建档立卡，准确界定"
     "革命基点村危房改造对象。"),
    ("mechanism", 1, "信息共享机制", "1个月内完成鉴定", "information_sharing",
     (BUREAU, "扶贫", "民政", "退役军人", "残"), True,
     "扶贫、民政、退役军人、残联等部门将动态新增的各类贫困户名单及时提供住建部门，住建部门1个月内完成鉴定。上半年完成新增危房改造"
     "扫尾任务，之后动态新增贫困户住房一经鉴定为危房，即行整改。"),
    ("mechanism", 2, "跟踪回访机制", "每季度", "revisits_each_quarter",
     (BUREAU,), True,
     "组织乡镇（街道）重点针对各类贫困户特别是建档立卡贫困户居住的土坯、土木、砖木结构房屋，每季度跟踪回访排查，发现安全隐患的，"
     "统筹采取措施解决住房安全问题。督促各类贫困户住房安全状况挂牌上墙，加强社会监督。"),
    ("mechanism", 3, "动态监测机制", "发现问题立即报告", "monitoring",
     (BUREAU, "扶贫"), True,
     "督促挂钩帮扶责任人在日常进村入户帮扶中，跟踪了解建档立卡贫困户已有安全住房是否仍住在老旧危房中、房屋是否存在漏雨透风影响"
     "居住质量问题，发现问题立即报告乡镇政府，第一时间进行处置。"),
    ("mechanism", 4, "举报投诉机制", "专人受理、及时处置", "complaints",
     (BUREAU,), False,
     "落实已建立的举报投诉机制，做到专人受理、及时处置，发挥社会监督作用。"),
    ("requirement", 2, "线索双向移送", "每季度", "lead_report",
     (BUREAU,), False,
     "市各专项整治参与单位每季度向牵头单位报送本专项问题线索情况，牵头单位按季度报市纪委监委。"),
    ("requirement", 4, "加强信息报送", "每月23日前；11月10日前报送工作总结", "unit_reports",
     ("扶贫", "乡村振兴", "民政", "退役军人", "应急管理", "农业农村", "残"), True,
     "专项整治期间，各责任单位每月23日前向住建局报送本月整治工作进展情况和突出问题处理情况。11月10日前报送专项整治工作工作总结。"),
]  # fmt: skip

# A problem's task or mechanism where the plan makes it plain: by its kind (the placard is task 一's 制牌上墙, the data
# task 三's 信息比对, the look-back's findings and archives task 二's), else by its source (a revisit mechanism 2, a
# helper's report mechanism 3, a complaint mechanism 4). rectification.plan.DEFAULT_BY_KIND / _BY_SOURCE are the same.
BY_KIND = {
    "placard_missing": ("task", 1), "data_mismatch": ("task", 3), "missing_documents": ("task", 2),
    "new_damage": ("task", 2), "lives_in_old_dangerous": ("task", 2), "connected_hazard": ("task", 2),
    "leaking": ("task", 2),
}  # fmt: skip
BY_SOURCE = {"revisit": ("mechanism", 2), "helper_report": ("mechanism", 3), "complaint": ("mechanism", 4)}


def _named(unit, parts) -> bool:
    """A township's unit by the township's name at its start (拱桥镇人民政府); any other unit by a part of its name
    (a township's 人民政府 holds 民政, which names the civil affairs bureau)."""
    if unit.kind == "township":
        return any(unit.name.startswith(part) for part in parts)
    return any(part in unit.name for part in parts)


def fill(apps, schema_editor):
    PlanItem = apps.get_model("rectification", "PlanItem")
    Unit = apps.get_model("households", "Unit")
    Problem = apps.get_model("rectification", "Problem")
    units = list(Unit.objects.exclude(kind="discipline"))
    items = {}
    for kind, number, title, deadline, rule, parts, every_township, text in ITEMS:
        item, created = PlanItem.objects.get_or_create(
            rule=rule,
            defaults={
                "kind": kind, "number": number, "title": title, "deadline": deadline, "text": text,
                "every_township": every_township,
            },
        )  # fmt: skip
        if created:
            item.responsible_units.set([unit for unit in units if _named(unit, parts)])
        items[(item.kind, item.number)] = item
    for kind, key in BY_KIND.items():
        if key in items:
            Problem.objects.filter(kind=kind, plan_item__isnull=True).update(plan_item=items[key])
    for source, key in BY_SOURCE.items():
        if key in items:
            Problem.objects.filter(source=source, plan_item__isnull=True).update(plan_item=items[key])


def empty(apps, schema_editor):
    apps.get_model("rectification", "Problem").objects.update(plan_item=None)
    apps.get_model("rectification", "PlanItem").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0015_discipline_commission_unit"),
        ("rectification", "0011_phase_dates_plausible"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalPlanItem",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("task", "Task (整治内容)"),
                            ("mechanism", "Mechanism (工作机制)"),
                            ("requirement", "Work requirement (工作要求)"),
                        ],
                        max_length=12,
                        verbose_name="kind",
                    ),
                ),
                (
                    "number",
                    models.PositiveSmallIntegerField(
                        help_text="The plan's number: task （一） to （四） are 1 to 4, mechanism 1 to 4, requirement （二） is 2.",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(20),
                        ],
                        verbose_name="number",
                    ),
                ),
                ("title", models.CharField(help_text="The plan's words.", max_length=80, verbose_name="title")),
                ("text", models.TextField(blank=True, verbose_name="the plan's text")),
                (
                    "every_township",
                    models.BooleanField(
                        default=False, help_text="The plan's 各乡镇街道.", verbose_name="every township and subdistrict"
                    ),
                ),
                (
                    "deadline",
                    models.CharField(
                        blank=True,
                        help_text="For example 6月底前 or 每季度.",
                        max_length=60,
                        verbose_name="deadline (the plan's words)",
                    ),
                ),
                (
                    "rule",
                    models.CharField(
                        choices=[
                            ("new_households", "New households appraised, renovated and placarded by 30 June"),
                            ("revisit_back", "Look-back revisits and the problems they find"),
                            ("data_entry", "Records entered and reconciled by April, sent to Longyan in May"),
                            ("base_villages", "Base villages' households"),
                            ("information_sharing", "Appraisal within a month, a dangerous house acted on at once"),
                            ("revisits_each_quarter", "Revisits every quarter"),
                            ("monitoring", "Helpers' reports acted on at once"),
                            ("complaints", "Complaints handled in time"),
                            ("lead_report", "Quarterly lead report to the discipline commission"),
                            ("unit_reports", "Monthly reports by the 23rd, year-end summary by 10 November"),
                        ],
                        db_index=True,
                        help_text="Which figures of the records the dashboard shows for this item, and the deadline it computes.",
                        max_length=24,
                        verbose_name="measured by",
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical task or mechanism of the plan",
                "verbose_name_plural": "historical tasks and mechanisms of the plan",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="PlanItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("task", "Task (整治内容)"),
                            ("mechanism", "Mechanism (工作机制)"),
                            ("requirement", "Work requirement (工作要求)"),
                        ],
                        max_length=12,
                        verbose_name="kind",
                    ),
                ),
                (
                    "number",
                    models.PositiveSmallIntegerField(
                        help_text="The plan's number: task （一） to （四） are 1 to 4, mechanism 1 to 4, requirement （二） is 2.",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(20),
                        ],
                        verbose_name="number",
                    ),
                ),
                ("title", models.CharField(help_text="The plan's words.", max_length=80, verbose_name="title")),
                ("text", models.TextField(blank=True, verbose_name="the plan's text")),
                (
                    "every_township",
                    models.BooleanField(
                        default=False, help_text="The plan's 各乡镇街道.", verbose_name="every township and subdistrict"
                    ),
                ),
                (
                    "deadline",
                    models.CharField(
                        blank=True,
                        help_text="For example 6月底前 or 每季度.",
                        max_length=60,
                        verbose_name="deadline (the plan's words)",
                    ),
                ),
                (
                    "rule",
                    models.CharField(
                        choices=[
                            ("new_households", "New households appraised, renovated and placarded by 30 June"),
                            ("revisit_back", "Look-back revisits and the problems they find"),
                            ("data_entry", "Records entered and reconciled by April, sent to Longyan in May"),
                            ("base_villages", "Base villages' households"),
                            ("information_sharing", "Appraisal within a month, a dangerous house acted on at once"),
                            ("revisits_each_quarter", "Revisits every quarter"),
                            ("monitoring", "Helpers' reports acted on at once"),
                            ("complaints", "Complaints handled in time"),
                            ("lead_report", "Quarterly lead report to the discipline commission"),
                            ("unit_reports", "Monthly reports by the 23rd, year-end summary by 10 November"),
                        ],
                        help_text="Which figures of the records the dashboard shows for this item, and the deadline it computes.",
                        max_length=24,
                        unique=True,
                        verbose_name="measured by",
                    ),
                ),
                (
                    "responsible_units",
                    models.ManyToManyField(
                        blank=True, related_name="plan_items", to="households.unit", verbose_name="responsible units"
                    ),
                ),
            ],
            options={
                "verbose_name": "task or mechanism of the plan",
                "verbose_name_plural": "tasks and mechanisms of the plan",
                "ordering": ["kind", "number"],
            },
        ),
        migrations.CreateModel(
            name="HistoricalPlanItem_responsible_units",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("m2m_history_id", models.AutoField(primary_key=True, serialize=False)),
                (
                    "history",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        to="rectification.historicalplanitem",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="households.unit",
                    ),
                ),
                (
                    "planitem",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="rectification.planitem",
                    ),
                ),
            ],
            options={
                "verbose_name": "HistoricalPlanItem_responsible_units",
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddField(
            model_name="historicalproblem",
            name="plan_item",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The plan's task (整治内容) or mechanism (工作机制) this problem falls short of.",
                limit_choices_to={"kind__in": ["task", "mechanism"]},
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="rectification.planitem",
                verbose_name="task or mechanism",
            ),
        ),
        migrations.AddField(
            model_name="problem",
            name="plan_item",
            field=models.ForeignKey(
                blank=True,
                help_text="The plan's task (整治内容) or mechanism (工作机制) this problem falls short of.",
                limit_choices_to={"kind__in": ["task", "mechanism"]},
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="problems",
                to="rectification.planitem",
                verbose_name="task or mechanism",
            ),
        ),
        migrations.AddConstraint(
            model_name="planitem",
            constraint=models.UniqueConstraint(
                fields=("kind", "number"),
                name="one_plan_item_per_kind_and_number",
                violation_error_message="The plan already has an item of this kind with this number.",
            ),
        ),
        migrations.RunPython(fill, empty),
    ]
