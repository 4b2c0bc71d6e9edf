"""The plan's problem list "明确时间表和责任人": open problems that name nobody get their township's responsible person,
which before Township.problem_owner existed can only be the township unit's contact (name and phone). Deadlines are
required on every problem, so there is none to fill; problems still without a person after this (a township whose
unit has no contact) are flagged on the township's home."""

from django.db import migrations


def fill(apps, schema_editor):
    Problem = apps.get_model("rectification", "Problem")
    Unit = apps.get_model("households", "Unit")
    contacts = {
        unit.township_id: f"{unit.contact_name} {unit.phone}".strip()[:50]
        for unit in Unit.objects.filter(township__isnull=False).exclude(contact_name="")
    }
    for township_id, person in contacts.items():
        Problem.objects.filter(
            township_id=township_id, status__in=["open", "in_progress"], responsible_person=""
        ).update(responsible_person=person)


class Migration(migrations.Migration):
    dependencies = [
        ("rectification", "0009_campaign_phases"),
        ("households", "0014_township_problem_owner"),
    ]

    # Reversing leaves the names in place: they are indistinguishable from names typed in since.
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
