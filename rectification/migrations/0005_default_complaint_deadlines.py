"""Default complaint deadlines: the acceptance decision in 3 working days, handling in 15, for every category."""

from django.db import migrations

CATEGORIES = [
    "dangerous_not_renovated", "appraisal_disputed", "subsidy", "construction_quality", "staff_conduct", "other",
]  # fmt: skip


def add_deadlines(apps, schema_editor):
    ComplaintDeadline = apps.get_model("rectification", "ComplaintDeadline")
    for category in CATEGORIES:
        ComplaintDeadline.objects.get_or_create(category=category, defaults={"acceptance_days": 3, "handling_days": 15})


def remove_deadlines(apps, schema_editor):
    apps.get_model("rectification", "ComplaintDeadline").objects.filter(category__in=CATEGORIES).delete()


class Migration(migrations.Migration):
    dependencies = [("rectification", "0004_complaints_and_leads")]

    operations = [migrations.RunPython(add_deadlines, remove_deadlines)]
