"""The stored flag "已有安全住房却仍住在老旧危房" recomputed under its new reading (issue 24): a C/D home while the
household owns an A/B house, whether that one is marked as lived in or not (households.services.refresh_home_state)."""

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def recompute(apps, schema_editor):
    Household = apps.get_model("households", "Household")
    Dwelling = apps.get_model("households", "Dwelling")
    dangerous_home = Dwelling.objects.filter(household=OuterRef("pk"), is_occupied=True, current_grade__in=["C", "D"])
    safe_house = Dwelling.objects.filter(household=OuterRef("pk"), current_grade__in=["A", "B"])
    Household.objects.update(
        flag_owns_safe_but_lives_in_danger=models.ExpressionWrapper(
            Exists(dangerous_home) & Exists(safe_house), output_field=models.BooleanField()
        )
    )


class Migration(migrations.Migration):
    dependencies = [("households", "0010_plausible_dates")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
