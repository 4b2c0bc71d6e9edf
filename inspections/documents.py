"""The appraisal form (农村住房安全性鉴定表) on paper: one A4 page per appraisal, from the recorded appraisal, for the
appraisers to sign and the appraising unit to stamp; and the same form blank, to fill in by hand in the field.

The page is inspections/print/appraisal_form.html over print/base.html (housing_safety.pdf draws it). Every value
comes from the records; the head's ID number is printed in full only where the reader opened that household's
personal data (the logged unmask, housing_safety.disclosure), masked otherwise and always in a batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.identity import mask_id_number
from housing_safety.pdf import html_to_pdf

from .models import Appraisal, ComponentGrade, Dwelling

# The four grades as the guideline defines them (grading.py quotes the source), printed beside the boxes.
GRADE_DEFINITIONS = (
    ("A", gettext_lazy("Grade A: the structure meets the requirements of safe use; no dangerous point was found.")),
    (
        "B",
        gettext_lazy(
            "Grade B: the structure basically meets the requirements of safe use; individual non-load-bearing members "
            "are dangerous without affecting the safety of the main structure."
        ),
    ),
    (
        "C",
        gettext_lazy(
            "Grade C: part of the load-bearing structure does not meet the requirements of safe use; danger appears "
            "locally: a partly dangerous house."
        ),
    ),
    (
        "D",
        gettext_lazy(
            "Grade D: the load-bearing structure no longer meets the requirements of safe use; the house as a whole is "
            "in danger: a dangerous house as a whole."
        ),
    ),
)
COMPONENT_COLUMNS = ("a", "b", "c", "d", ComponentGrade.ABSENT.value)


@dataclass
class AppraisalForm:
    """What one printed form shows; every field empty on the blank form."""

    number: str = ""
    kind: str = ""
    head_name: str = ""
    id_number: str = ""
    place: str = ""
    address: str = ""
    house: list[tuple[str, str]] = field(default_factory=list)
    components: list[tuple[str, str]] = field(default_factory=list)  # (label, grade letter or "")
    site_hazard: bool | None = None
    leaking: bool | None = None
    grade: str = ""
    recommendation: str = ""
    notes: str = ""
    appraisers: list[str] = field(default_factory=list)
    organisation: str = ""
    appraised_on: str = ""
    qr: str = ""


HOUSE_FIELDS = ("structure_type", "storeys", "bays", "floor_area", "year_built")


def _house_rows(dwelling: Dwelling | None) -> list[tuple[str, str]]:
    """The house's facts, label and value; the labels alone (values empty) for the blank form."""
    labels = [Dwelling._meta.get_field(name).verbose_name for name in HOUSE_FIELDS] + [_("Lived in")]
    if dwelling is None:
        return [(label, "") for label in labels]
    values = [
        dwelling.get_structure_type_display(),
        str(dwelling.storeys or ""),
        str(dwelling.bays or ""),
        str(dwelling.floor_area) if dwelling.floor_area is not None else "",  # the label says （㎡）
        str(dwelling.year_built or ""),
        _("yes") if dwelling.is_occupied else _("no"),
    ]
    return list(zip(labels, values, strict=True))


def _record_qr(appraisal: Appraisal) -> str:
    """A QR code to the household's record (the staff's page: it asks for a login and answers only in scope)."""
    url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "inspections:household", args=[appraisal.dwelling.household_id]
    )
    return segno.make(url, error="m").svg_data_uri(scale=3, border=1)


def form_of(appraisal: Appraisal, *, full_id_number: bool = False) -> AppraisalForm:
    dwelling = appraisal.dwelling
    household = dwelling.household
    id_number = household.id_number or ""
    return AppraisalForm(
        number=f"{appraisal.appraised_on:%Y}-{appraisal.pk:06d}",
        kind=appraisal.get_kind_display(),
        head_name=household.head_name,
        id_number=id_number if full_id_number else mask_id_number(id_number),
        place=f"{household.village.township.name}{household.village.name}",
        address=dwelling.address,
        house=_house_rows(dwelling),
        components=[(label, getattr(appraisal, name)) for name, label in Appraisal.COMPONENTS],
        site_hazard=appraisal.site_hazard,
        leaking=appraisal.is_leaking,
        grade=appraisal.grade,
        recommendation=appraisal.recommendation,
        notes=appraisal.notes,
        appraisers=appraisal.appraiser_names(),
        organisation=appraisal.organisation,
        appraised_on=f"{appraisal.appraised_on:%Y年%m月%d日}".replace("年0", "年").replace("月0", "月"),
        qr=_record_qr(appraisal),
    )


def blank_form() -> AppraisalForm:
    return AppraisalForm(
        house=_house_rows(None),
        components=[(label, "") for _name, label in Appraisal.COMPONENTS],
        appraisers=["", ""],
    )


def forms_html(forms: Iterable[AppraisalForm], *, blank: bool = False) -> str:
    return render_to_string(
        "inspections/print/appraisal_form.html",
        {
            "forms": list(forms),
            "blank": blank,
            "grades": GRADE_DEFINITIONS,
            "columns": COMPONENT_COLUMNS,
            "recommendations": [c for c in Appraisal.Recommendation.choices if c[0] != Appraisal.Recommendation.NONE],
            "printed_at": timezone.localtime(),
        },
    )


def forms_pdf(forms: Iterable[AppraisalForm], *, blank: bool = False) -> bytes:
    """One A4 page per form, in one PDF."""
    return html_to_pdf(forms_html(forms, blank=blank))


def appraisal_forms_pdf(appraisals: Iterable[Appraisal], *, full_id_for: Iterable[int] = ()) -> bytes:
    """The forms of these appraisals (the caller's scoped selector found them), the ID number in full for the
    households in `full_id_for`."""
    full = set(full_id_for)
    return forms_pdf(form_of(a, full_id_number=a.dwelling.household_id in full) for a in appraisals)


def blank_forms_pdf(copies: int = 1) -> bytes:
    return forms_pdf([blank_form() for _ in range(copies)], blank=True)


# The village's batch, laid out in the background (housing_safety.printing; registered in apps.py) ----------------
PRINT_KIND = "appraisal_forms"


def _village_batch(job) -> list[Appraisal]:
    from .selectors import village_current_appraisals

    return list(village_current_appraisals(job.user, job.params["village"]))


def _batch_html(appraisals) -> str:
    # A batch is a list of many households: their ID numbers stay masked (a single form may show one in full).
    return forms_html(form_of(appraisal) for appraisal in appraisals)


def _batch_filename(job) -> str:
    return f"appraisal-forms-{job.params['village']}-{job.pk}.pdf"


PRINT_REGISTRATION = {"records": _village_batch, "render": _batch_html, "filename": _batch_filename}
