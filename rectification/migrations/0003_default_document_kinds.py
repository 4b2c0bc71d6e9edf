"""The household archive's default document kinds (DOMAIN.md, 一户一档), each with the step that needs it.

The bureau adjusts them in the admin; the step a kind belongs to cannot be completed while it is missing.
"""

from django.db import migrations

# (code, name, step, required)
DEFAULT_KINDS = [
    ("application", "农户申请书", "applied", True),
    ("identity_proof", "身份证明", "applied", True),
    ("category_proof", "帮扶对象类别证明", "applied", True),
    ("village_certificate", "村级证明", "applied", False),
    ("assessment_record", "村民评议记录", "village_assessed", True),
    ("village_posting_photo", "村级公示照片", "village_assessed", True),
    ("appraisal_form", "房屋安全性鉴定表", "township_reviewed", True),
    ("township_posting_photo", "乡镇公示照片", "township_reviewed", True),
    ("photo_before", "改造前照片", "township_reviewed", True),
    ("approval_form", "审批表", "approved", False),
    ("agreement", "改造协议", "agreement_signed", True),
    ("pledge", "承诺书", "agreement_signed", True),
    ("safety_letter", "施工安全告知书", "agreement_signed", True),
    ("photo_during", "施工中照片", "accepted", True),
    ("quality_record", "质量安全检查记录", "accepted", False),
    ("acceptance_form", "竣工验收表", "accepted", True),
    ("photo_after", "改造后照片", "accepted", True),
    ("payment_voucher", "补助拨付凭证", "paid", True),
]


def add_kinds(apps, schema_editor):
    DocumentKind = apps.get_model("rectification", "DocumentKind")
    for order, (code, name, step, required) in enumerate(DEFAULT_KINDS, start=1):
        DocumentKind.objects.update_or_create(
            code=code, defaults={"name": name, "step": step, "is_required": required, "order": order * 10}
        )


def remove_kinds(apps, schema_editor):
    DocumentKind = apps.get_model("rectification", "DocumentKind")
    DocumentKind.objects.filter(code__in=[code for code, *_rest in DEFAULT_KINDS]).delete()


class Migration(migrations.Migration):
    dependencies = [("rectification", "0002_renovation_cases")]

    operations = [migrations.RunPython(add_kinds, remove_kinds)]
