"""Fill the stored date of each dwelling's newest appraisal (households 0018), as inspections.services.
refresh_current_grades keeps it: one UPDATE over the dwellings that have an appraisal."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def store(apps, schema_editor):
    Appraisal = apps.get_model("inspections", "Appraisal")
    Dwelling = apps.get_model("households", "Dwelling")
    newest = Appraisal.objects.filter(dwelling=OuterRef("pk")).order_by("-appraised_on", "-pk")
    Dwelling.objects.filter(current_grade__isnull=False).update(
        current_graded_on=Subquery(newest.values("appraised_on")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0012_revisit_township"),
        ("households", "0018_dwelling_current_graded_on"),
    ]

    operations = [migrations.RunPython(store, migrations.RunPython.noop)]
