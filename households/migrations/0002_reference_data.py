"""Zhangping's 16 townships (DOMAIN.md), the eight household categories, and the responsible units the
plan names. Office phone numbers are the plan's published landlines; no personal names."""

from django.db import migrations

TOWNSHIPS = [
    ("350881001", "菁城街道"), ("350881002", "桂林街道"), ("350881100", "新桥镇"), ("350881101", "双洋镇"),
    ("350881102", "永福镇"), ("350881103", "溪南镇"), ("350881104", "和平镇"), ("350881105", "拱桥镇"),
    ("350881106", "象湖镇"), ("350881107", "赤水镇"), ("350881108", "西园镇"), ("350881109", "南洋镇"),
    ("350881110", "芦芝镇"), ("350881203", "官田乡"), ("350881204", "吾祠乡"), ("350881205", "灵地乡"),
]  # fmt: skip

CATEGORIES = [
    "registered_poor", "minimum_living", "extremely_poor", "special_care", "five_olds", "disabled",
    "base_village", "other_poor",
]  # fmt: skip

# (name, kind, office phone, e-mail)
UNITS = [
    ("漳平市住房和城乡建设局", "bureau", "0597-7832121", "zp7832121@163.com"),
    ("漳平市扶贫开发办公室", "department", "0597-3202028", ""),
    ("漳平市民政局", "department", "0597-7525982", ""),
    ("漳平市自然资源局", "department", "", ""),
    ("漳平市退役军人事务局", "department", "0597-7530298", ""),
    ("漳平市应急管理局", "department", "", ""),
    ("漳平市市场监督管理局", "department", "", ""),
    ("漳平市残疾人联合会", "department", "0597-7822196", ""),
    ("漳平市农业农村局", "department", "", ""),
]


def township_kind(name: str) -> str:
    return "subdistrict" if name.endswith("街道") else "township" if name.endswith("乡") else "town"


def township_unit_name(name: str) -> str:
    return f"{name}办事处" if name.endswith("街道") else f"{name}人民政府"


def forwards(apps, schema_editor):
    Township = apps.get_model("households", "Township")
    HouseholdCategory = apps.get_model("households", "HouseholdCategory")
    Unit = apps.get_model("households", "Unit")
    for code, name in TOWNSHIPS:
        township, _ = Township.objects.update_or_create(code=code, defaults={"name": name, "kind": township_kind(name)})
        Unit.objects.update_or_create(
            name=township_unit_name(name), defaults={"kind": "township", "township": township}
        )
    for position, code in enumerate(CATEGORIES, start=1):
        HouseholdCategory.objects.update_or_create(code=code, defaults={"position": position})
    for name, kind, phone, email in UNITS:
        Unit.objects.update_or_create(name=name, defaults={"kind": kind, "phone": phone, "email": email})


def backwards(apps, schema_editor):
    Unit = apps.get_model("households", "Unit")
    Unit.objects.filter(name__in=[u[0] for u in UNITS] + [township_unit_name(n) for _, n in TOWNSHIPS]).delete()
    apps.get_model("households", "HouseholdCategory").objects.filter(code__in=CATEGORIES).delete()
    apps.get_model("households", "Township").objects.filter(code__in=[c for c, _ in TOWNSHIPS]).delete()


class Migration(migrations.Migration):
    dependencies = [("households", "0001_registry")]
    operations = [migrations.RunPython(forwards, backwards)]
