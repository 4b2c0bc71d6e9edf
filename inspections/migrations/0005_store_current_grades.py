"""Fill the stored current grades and home states added in households 0006, from the appraisals on record.

The rule is the one of households.services.refresh_home_state and inspections.services.refresh_current_grades as
of this migration, written with the historical models (migrations do not import app code).
"""

from django.db import migrations, models
from django.db.models import Case, Exists, OuterRef, Subquery, Value, When

DANGEROUS, SAFE = ("C", "D"), ("A", "B")


def store(apps, schema_editor):
    Appraisal = apps.get_model("inspections", "Appraisal")
    Dwelling = apps.get_model("households", "Dwelling")
    Household = apps.get_model("households", "Household")

    newest = Appraisal.objects.filter(dwelling=OuterRef("pk")).order_by("-appraised_on", "-pk")
    Dwelling.objects.update(
        current_grade=Subquery(newest.values("grade")[:1]), current_leaking=Subquery(newest.values("is_leaking")[:1])
    )
    homes = Dwelling.objects.filter(household=OuterRef("pk"), is_occupied=True)
    dangerous = Exists(homes.filter(current_grade__in=DANGEROUS))
    Household.objects.update(
        home_status=Case(
            When(dangerous, then=Value("dangerous")),
            When(~Exists(homes), then=Value("unappraised")),
            When(Exists(homes.filter(current_grade__isnull=True)), then=Value("unappraised")),
            When(Exists(homes.filter(renovated_on__isnull=False)), then=Value("renovated_safe")),
            default=Value("appraised_safe"),
            output_field=models.CharField(),
        ),
        flag_owns_safe_but_lives_in_danger=models.ExpressionWrapper(
            dangerous
            & Exists(Dwelling.objects.filter(household=OuterRef("pk"), is_occupied=False, current_grade__in=SAFE)),
            output_field=models.BooleanField(),
        ),
        flag_connected_uncooperative=Exists(homes.filter(is_connected=True, neighbour_cooperates=False)),
        flag_leaking=Exists(homes.filter(current_leaking=True)),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0004_spot_checks"),
        ("households", "0006_stored_home_state"),
    ]

    operations = [migrations.RunPython(store, migrations.RunPython.noop)]
