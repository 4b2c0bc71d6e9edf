# The quarterly lead returns of the participating units (issue 24).
# 市各专项整治参与单位每季度向牵头单位报送本专项问题线索情况

import django.core.validators
import django.db.models.deletion
import django.db.models.expressions
import simple_history.models
from django.conf import settings
from django.db import migrations, models

import housing_safety.dates


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0015_discipline_commission_unit"),
        ("rectification", "0012_plan_items"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalLeadQuarterReturn",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                (
                    "year",
                    models.PositiveSmallIntegerField(
                        validators=[housing_safety.dates.PlausibleYear()], verbose_name="year"
                    ),
                ),
                (
                    "quarter",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(4),
                        ],
                        verbose_name="quarter",
                    ),
                ),
                (
                    "sent_to_units",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(99999)],
                        verbose_name="leads sent to other units",
                    ),
                ),
                (
                    "sent_to_discipline",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(99999)],
                        verbose_name="leads sent to the discipline inspection organs",
                    ),
                ),
                (
                    "received",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(99999)],
                        verbose_name="leads received from other units",
                    ),
                ),
                (
                    "receipts_confirmed",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(99999)],
                        verbose_name="receipts confirmed for leads sent",
                    ),
                ),
                (
                    "feedback",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(99999)],
                        verbose_name="feedback received for leads sent",
                    ),
                ),
                ("situation", models.TextField(blank=True, verbose_name="work situation (工作情况)")),
                (
                    "difference_reason",
                    models.TextField(blank=True, verbose_name="why the figures differ from the lead register"),
                ),
                (
                    "register_counts",
                    models.JSONField(
                        default=dict, editable=False, verbose_name="the lead register's figures when filed"
                    ),
                ),
                (
                    "filed_at",
                    models.DateTimeField(
                        editable=False,
                        validators=[housing_safety.dates.PlausibleDate("event")],
                        verbose_name="filed at",
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
                    "filed_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="filed by",
                    ),
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
                (
                    "unit",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="households.unit",
                        verbose_name="unit",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical quarterly lead return",
                "verbose_name_plural": "historical quarterly lead returns",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="LeadQuarterReturn",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "year",
                    models.PositiveSmallIntegerField(
                        validators=[housing_safety.dates.PlausibleYear()], verbose_name="year"
                    ),
                ),
                (
                    "quarter",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(4),
                        ],
                        verbose_name="quarter",
                    ),
                ),
                (
                    "sent_to_units",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(99999)],
                        verbose_name="leads sent to other units",
                    ),
                ),
                (
                    "sent_to_discipline",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(99999)],
                        verbose_name="leads sent to the discipline inspection organs",
                    ),
                ),
                (
                    "received",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(99999)],
                        verbose_name="leads received from other units",
                    ),
                ),
                (
                    "receipts_confirmed",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(99999)],
                        verbose_name="receipts confirmed for leads sent",
                    ),
                ),
                (
                    "feedback",
                    models.PositiveIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(99999)],
                        verbose_name="feedback received for leads sent",
                    ),
                ),
                ("situation", models.TextField(blank=True, verbose_name="work situation (工作情况)")),
                (
                    "difference_reason",
                    models.TextField(blank=True, verbose_name="why the figures differ from the lead register"),
                ),
                (
                    "register_counts",
                    models.JSONField(
                        default=dict, editable=False, verbose_name="the lead register's figures when filed"
                    ),
                ),
                (
                    "filed_at",
                    models.DateTimeField(
                        editable=False,
                        validators=[housing_safety.dates.PlausibleDate("event")],
                        verbose_name="filed at",
                    ),
                ),
                (
                    "filed_by",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="filed by",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lead_returns",
                        to="households.unit",
                        verbose_name="unit",
                    ),
                ),
            ],
            options={
                "verbose_name": "quarterly lead return",
                "verbose_name_plural": "quarterly lead returns",
                "ordering": ["-year", "-quarter", "unit__name"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("unit", "year", "quarter"),
                        name="lead_return_once_per_unit_and_quarter",
                        violation_error_message="This unit has already filed its lead return for this quarter.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("quarter__gte", 1), ("quarter__lte", 4)),
                        name="lead_return_quarter_1_to_4",
                        violation_error_message="The quarter is 1 to 4.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "receipts_confirmed__lte",
                                django.db.models.expressions.CombinedExpression(
                                    models.F("sent_to_units"), "+", models.F("sent_to_discipline")
                                ),
                            ),
                            (
                                "feedback__lte",
                                django.db.models.expressions.CombinedExpression(
                                    models.F("sent_to_units"), "+", models.F("sent_to_discipline")
                                ),
                            ),
                        ),
                        name="lead_return_receipts_within_sent",
                        violation_error_message="Receipts and feedback cannot exceed the leads sent.",
                    ),
                ],
            },
        ),
    ]
