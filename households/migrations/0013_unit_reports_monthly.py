"""Which units report to the bureau each month (issue 24): the responsible units (责任单位) the plan names per task.

The plan's 整治内容 and 工作机制 name as responsible: 市住建局, 扶贫办 and 各乡镇街道 (tasks 一, 三; mechanism 3), 应急管理局
(task 二), 农业农村局, 民政局, 拱桥镇 and 永福镇 (task 四), 扶贫、民政、退役军人、残联 (mechanism 1). Its 四（四） asks "各责任单位每月
23日前向住建局报送": every one of these reports, except the bureau (市住建局), which receives the reports. 自然资源局 and
市场监管局 are participating units (参与单位) only, named as responsible for no task: they do not report monthly.
"""

from django.db import migrations, models

# Parts of the departments' names (migration 0002's units, or the bureau's own spelling) the plan names as 责任单位.
RESPONSIBLE_DEPARTMENTS = ("扶贫", "乡村振兴", "民政", "退役军人", "应急管理", "农业农村", "残")


def fill(apps, schema_editor):
    Unit = apps.get_model("households", "Unit")
    for unit in Unit.objects.all():
        if unit.kind == "bureau":
            reports = False
        elif unit.kind == "township":
            reports = True
        else:
            reports = any(part in unit.name for part in RESPONSIBLE_DEPARTMENTS)
        Unit.objects.filter(pk=unit.pk).update(reports_monthly=reports)


class Migration(migrations.Migration):
    dependencies = [("households", "0012_listrow_poverty_state")]

    operations = [
        migrations.AddField(
            model_name="unit",
            name="reports_monthly",
            field=models.BooleanField(
                default=True,
                help_text=(
                    "A responsible unit named in the plan's tasks reports its progress before the 23rd of each month "
                    "and its year-end summary before 10 November. The housing bureau receives the reports and does "
                    "not report to itself."
                ),
                verbose_name="reports to the bureau (monthly progress and year-end summary)",
            ),
        ),
        migrations.AddField(
            model_name="historicalunit",
            name="reports_monthly",
            field=models.BooleanField(
                default=True,
                help_text=(
                    "A responsible unit named in the plan's tasks reports its progress before the 23rd of each month "
                    "and its year-end summary before 10 November. The housing bureau receives the reports and does "
                    "not report to itself."
                ),
                verbose_name="reports to the bureau (monthly progress and year-end summary)",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
