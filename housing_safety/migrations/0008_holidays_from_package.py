"""Every year the chinese-calendar package knows (2004 to 2026 in 1.11.0) becomes a row of the holiday table, with its
days off and make-up working days and the holidays' Chinese names, so that the table alone answers for those years
and the bureau only enters the years after (housing_safety.holidays)."""

from collections import defaultdict

from django.db import migrations

NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def package_days():
    """{year: [(day, kind, name)]} from the package's own tables."""
    from chinese_calendar.constants import holidays, workdays

    years = defaultdict(list)
    for kind, table in (("off", holidays), ("work", workdays)):
        for day, name in table.items():
            years[day.year].append((day, kind, NAMES.get(str(name), str(name))))
    return years


def fill(apps, schema_editor):
    HolidayYear = apps.get_model("housing_safety", "HolidayYear")
    HolidayDay = apps.get_model("housing_safety", "HolidayDay")
    for year, days in sorted(package_days().items()):
        calendar, created = HolidayYear.objects.get_or_create(year=year, defaults={"source": "package"})
        if not created:
            continue  # entered by hand already: the bureau's table wins
        HolidayDay.objects.bulk_create(
            [HolidayDay(calendar=calendar, day=day, kind=kind, name=name) for day, kind, name in sorted(days)]
        )


def empty(apps, schema_editor):
    apps.get_model("housing_safety", "HolidayYear").objects.filter(source="package").delete()


class Migration(migrations.Migration):
    dependencies = [("housing_safety", "0007_holiday_calendar")]

    operations = [migrations.RunPython(fill, empty)]
