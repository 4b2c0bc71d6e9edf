"""Each revisit stores its household's township (Revisit.township), so a township's list reads its own index in the
list's order: added nullable, filled from the households in one statement, then required and indexed."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill_townships(apps, schema_editor):
    Revisit = apps.get_model("inspections", "Revisit")
    Dwelling = apps.get_model("households", "Dwelling")
    Household = apps.get_model("households", "Household")
    Village = apps.get_model("households", "Village")
    revisits, dwellings = Revisit._meta.db_table, Dwelling._meta.db_table
    households, villages = Household._meta.db_table, Village._meta.db_table
    if schema_editor.connection.vendor == "postgresql":  # one UPDATE … FROM, joined by hash at any size
        sql = f"""
            UPDATE {revisits} AS r SET township_id = v.township_id
            FROM {dwellings} AS d, {households} AS h, {villages} AS v
            WHERE d.id = r.dwelling_id AND h.id = d.household_id AND v.id = h.village_id
        """
    else:  # the same in one statement for SQLite (a laptop's database)
        sql = f"""
            UPDATE {revisits} SET township_id = (
                SELECT v.township_id FROM {dwellings} AS d
                JOIN {households} AS h ON h.id = d.household_id JOIN {villages} AS v ON v.id = h.village_id
                WHERE d.id = {revisits}.dwelling_id
            )
        """
    schema_editor.execute(sql)
    if schema_editor.connection.vendor == "postgresql":
        # The new foreign key's checks are deferred to the commit; run them now, or making the column NOT NULL in the
        # same transaction is refused ("pending trigger events").
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0017_api_changed_since_indexes"),
        ("inspections", "0011_changed_since"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalrevisit",
            name="township",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="households.township",
                verbose_name="township responsible",
            ),
        ),
        migrations.AddField(
            model_name="revisit",
            name="township",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="revisits",
                to="households.township",
                verbose_name="township responsible",
            ),
        ),
        migrations.RunPython(fill_townships, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="revisit",
            name="township",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="revisits",
                to="households.township",
                verbose_name="township responsible",
            ),
        ),
        migrations.AddIndex(
            model_name="revisit",
            index=models.Index(fields=["township", "status", "due_on", "id"], name="revisit_township_list"),
        ),
    ]
