"""The appraisal form on paper (issue 18): "one A4 page per appraisal, from the recorded appraisal: household, house
(address, structure, floors, area, year built), each component's grade, site hazard, leaking, the house grade with
its definition, recommendation, appraisers' names with signature lines, the appraising unit, date, a QR code to the
record (for staff, scoped) and room for the stamp; printable blank for field use. A batch print for a village."

Each PDF is read back: its text (pypdf) holds the recorded values, its page is A4, and the fonts embedded in it cover
every character of that text (no boxes in place of Chinese). A rendered page of each is kept in test-artifacts/.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from households.identity import mask_id_number
from households.tests.conftest import *  # noqa: F403
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory
from housing_safety import disclosure, printing
from housing_safety.models import Notice, PrintJob
from housing_safety.tests.kit import (
    ADMIN,
    ANON,
    CLERK,
    HELPER,
    LIAISON,
    NO_ROLE,
    OFFICIAL,
    STAFF,
    embedded_characters,
    keep_page_image,
    login,
    pdf_text,
)
from inspections.documents import GRADE_DEFINITIONS
from inspections.tests.factories import AppraisalFactory

pytestmark = pytest.mark.django_db

A4_POINTS = (595.28, 841.89)


@pytest.fixture
def dangerous(xinqiao):
    household = HouseholdFactory(village=VillageFactory(township=xinqiao, name="东坑村"), head_name="林木根")
    dwelling = DwellingFactory(household=household, address="东坑村2组15号", year_built=1978, floor_area="96.50")
    return AppraisalFactory(
        dwelling=dwelling,
        kind="formal",
        foundation="c",
        load_bearing_walls="d",
        grade="C",
        recommendation="repair",
        appraisers="王建国、陈立新",
        organisation="漳平市建设工程质量检测站",
    )


def test_the_form_of_a_recorded_appraisal_is_one_a4_page_with_its_values(client, personas, dangerous):
    """One A4 page per appraisal with the household, the house, each component's grade, the grade with its
    definition, the recommendation, the appraisers to sign, the unit to stamp and the date."""
    login(client, personas, STAFF)

    response = client.get(reverse("inspections:appraisal-form", args=[dangerous.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "inline" in response["Content-Disposition"]
    reader, text = pdf_text(response.content)
    assert len(reader.pages) == 1
    assert tuple(round(float(v), 2) for v in reader.pages[0].mediabox[2:]) == A4_POINTS
    household = dangerous.dwelling.household
    for expected in (
        "农村住房安全性鉴定表",
        "林木根",
        "新桥镇东坑村",
        "东坑村2组15号",
        "1978",
        "地基基础",
        "承重墙",
        "C级：部分承重结构不能满足安全使用要求，局部出现险情，构成局部危房。",
        "修缮加固",
        "王建国",
        "陈立新",
        "漳平市建设工程质量检测站",
        "鉴定单位（盖章）",
        "2025年6月1日",
        mask_id_number(household.id_number),
    ):
        assert expected in text, expected
    assert household.id_number not in text  # masked: the reader did not open the household's personal data
    assert "建筑面积（㎡） 96.50 " in text and "m²" not in text  # the unit said once, by the label
    assert set(text) - {"\n", " "} <= embedded_characters(reader)
    keep_page_image(response.content, "appraisal-form.png")


def test_the_marks_follow_the_recorded_grades(dangerous):
    """■ marks what was recorded: the grade C box and the foundation's c, the walls' d."""
    from inspections.documents import form_of

    form = form_of(dangerous)
    assert form.grade == "C"
    assert dict(form.components)[dangerous.COMPONENTS[0][1]] == "c"
    assert dict(form.components)[dangerous.COMPONENTS[1][1]] == "d"
    assert [letter for letter, _definition in GRADE_DEFINITIONS] == ["A", "B", "C", "D"]


def test_the_id_number_is_printed_in_full_only_after_the_logged_unmask(client, personas, dangerous):
    household = dangerous.dwelling.household
    login(client, personas, STAFF)
    url = reverse("inspections:appraisal-form", args=[dangerous.pk])
    assert household.id_number not in pdf_text(client.get(url).content)[1]

    opened = client.post(
        reverse("unmask", args=[disclosure.record_type(household), household.pk]),
        {"reason": "打印鉴定表存档", "next": url},
    )

    assert opened.status_code == 302
    assert household.id_number in pdf_text(client.get(url).content)[1]


@pytest.mark.parametrize(
    ("persona", "status"),
    [(ANON, 302), (NO_ROLE, 403), (HELPER, 404), (CLERK, 200), (LIAISON, 404), (STAFF, 200), (OFFICIAL, 200),
     (ADMIN, 200)],
)  # fmt: skip
def test_who_may_print_a_form(client, personas, dangerous, persona, status):
    """Whoever may open the household's record may print its form (the complaint clerk's scope is the county); the
    helper and the liaison (whose unit is not the household's source here) get a 404, like the record."""
    login(client, personas, persona)

    assert client.get(reverse("inspections:appraisal-form", args=[dangerous.pk])).status_code == status


def test_a_form_of_another_township_is_not_found(client, personas, shuangyang):
    elsewhere = AppraisalFactory(dwelling=DwellingFactory(household=HouseholdFactory(village=VillageFactory(
        township=shuangyang))))  # fmt: skip
    login(client, personas, STAFF)

    assert client.get(reverse("inspections:appraisal-form", args=[elsewhere.pk])).status_code == 404


def test_the_blank_form_is_one_page_to_fill_in_by_hand(client, personas):
    login(client, personas, STAFF)

    response = client.get(reverse("inspections:appraisal-form-blank"))

    assert response.status_code == 200
    reader, text = pdf_text(response.content)
    assert len(reader.pages) == 1
    assert "现场手工填写" in text and "鉴定人员（签字）" in text and "年" in text
    assert set(text) - {"\n", " "} <= embedded_characters(reader)
    keep_page_image(response.content, "appraisal-form-blank.png")


def test_a_villages_forms_print_in_the_background_for_the_one_who_asked(
    client, personas, xinqiao, dangerous, django_capture_on_commit_callbacks, monkeypatch
):
    """A batch print for a village: one page per house (its newest appraisal), IDs masked, the PDF for its asker
    alone, who is told in the inbox. Laid out a form per chunk here, so that the chunks are joined."""
    monkeypatch.setattr(printing, "CHUNK", 1)
    village = dangerous.dwelling.household.village
    AppraisalFactory(dwelling=dangerous.dwelling, appraised_on=dangerous.appraised_on.replace(year=2026))
    AppraisalFactory(
        dwelling=DwellingFactory(household=HouseholdFactory(village=village, head_name="郑春花")),
        appraised_on=dangerous.appraised_on.replace(month=9, day=9),
    )
    login(client, personas, STAFF)

    with django_capture_on_commit_callbacks(execute=True):  # the worker's turn (inline: no broker in tests)
        response = client.post(reverse("inspections:village-forms", args=[village.pk]))

    job = PrintJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("print-job", args=[job.pk])
    assert (job.status, job.total, job.done) == (PrintJob.Status.READY, 2, 2)
    page = client.get(response["Location"]).content.decode()
    assert reverse("print-job-file", args=[job.pk]) in page
    assert f'href="{reverse("inspections:field")}?village={village.pk}"' in page  # back to the village's list
    reader, text = pdf_text(client.get(reverse("print-job-file", args=[job.pk])).content)
    assert len(reader.pages) == 2
    assert "林木根" in text and "郑春花" in text and "2026年6月1日" in text and "2025年6月1日" not in text
    assert dangerous.dwelling.household.id_number not in text
    assert Notice.objects.filter(recipient=personas[STAFF], key=f"print:{job.pk}").exists()

    login(client, personas, OFFICIAL)  # someone else: the job and its file are not theirs
    assert client.get(reverse("print-job", args=[job.pk])).status_code == 404
    assert client.get(reverse("print-job-file", args=[job.pk])).status_code == 404


def test_a_village_outside_the_scope_is_not_printed(client, personas, shuangyang):
    village = VillageFactory(township=shuangyang)
    AppraisalFactory(dwelling=DwellingFactory(household=HouseholdFactory(village=village)))
    login(client, personas, STAFF)

    assert client.post(reverse("inspections:village-forms", args=[village.pk])).status_code == 404
    assert not PrintJob.objects.exists()


def test_a_village_without_appraisals_says_so_and_prints_nothing(client, personas, xinqiao):
    village = VillageFactory(township=xinqiao, name="空村")
    login(client, personas, STAFF)

    response = client.post(reverse("inspections:village-forms", args=[village.pk]), follow=True)

    assert "空村暂无可打印的鉴定记录。" in response.content.decode()
    assert not PrintJob.objects.exists()


def test_the_pages_lead_to_the_forms(client, personas, dangerous):
    """One click from the page each belongs to: the household's appraisals, the appraisal form's page, the
    village's household list."""
    login(client, personas, STAFF)
    household = dangerous.dwelling.household

    detail = client.get(reverse("inspections:household", args=[household.pk])).content.decode()
    appraise = client.get(reverse("inspections:appraise", args=[dangerous.dwelling.pk])).content.decode()
    village = client.get(reverse("inspections:field") + f"?village={household.village_id}").content.decode()

    assert reverse("inspections:appraisal-form", args=[dangerous.pk]) in detail
    assert reverse("inspections:appraisal-form-blank") in appraise
    assert reverse("inspections:village-forms", args=[household.village_id]) in village


def test_the_township_of_another_side_is_not_offered_a_village_batch(client, personas, shuangyang):
    village = VillageFactory(township=shuangyang)
    login(client, personas, STAFF)

    page = client.get(reverse("inspections:field") + f"?village={village.pk}").content.decode()

    assert reverse("inspections:village-forms", args=[village.pk]) not in page


@pytest.mark.parametrize("persona", [LIAISON, HELPER])
def test_a_village_batch_is_for_those_who_see_the_whole_township(client, personas, xinqiao, dangerous, persona):
    """A liaison or a helper sees some households of a village, not the village: no batch of it (404)."""
    login(client, personas, persona)

    response = client.post(reverse("inspections:village-forms", args=[dangerous.dwelling.household.village_id]))

    assert response.status_code == 404
    assert not PrintJob.objects.exists()
