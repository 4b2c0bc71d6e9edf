"""Grades against the national guideline (issue 24): what 《农村住房安全性鉴定技术导则》(建村函〔2019〕200号) makes a
rule is refused everywhere an appraisal is written (form, services, Excel import); what it leaves to judgement is a
warning on the confirmation page, before anything is recorded."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.tests.kit import body
from inspections import grading, services
from inspections.models import Appraisal
from inspections.selectors import grade_warnings
from inspections.tests.test_form_summary_held_files_confirm import appraisal_data
from inspections.tests.test_import import GOOD, import_rows

FOUNDATION_D = "地基基础为 d 级（整体危险）：房屋整体出现险情，应评定为 D 级。"
EVERY_D = "各构件均为 d 级（整体危险），房屋应评定为 D 级（整幢危房）。"
A_REBUILD = "A 级房屋结构安全，不能建议拆除重建。"
ALL_A_BUT_D = "各构件均为 a 级，但房屋综合评定为 D 级：请确认。"
A_RELOCATE = "房屋为 A 级（结构安全），但处理建议为搬迁安置：请确认，并在备注中写明原因。"
B_REBUILD = "房屋为 B 级（不影响主体结构安全），但处理建议为拆除重建：请确认。"
B_WITH_C = "有承重构件评为c级（局部危险），但房屋评定为B级（仅个别非承重构件危险）：请确认是否应为C级。"
COMPONENTS = [name for name, _label in Appraisal.COMPONENTS]


def appraisal(grade: str, every: str = "b", recommendation: str = "none", **components) -> Appraisal:
    grades = {name: every for name in COMPONENTS} | components
    return Appraisal(grade=grade, recommendation=recommendation, **grades)


def refused(record: Appraisal) -> dict[str, str]:
    with translation.override("zh-hans"):
        return grading.refusals(record)


def warned(record: Appraisal) -> list[str]:
    with translation.override("zh-hans"):
        return grade_warnings(record)


def test_every_component_d_graded_c_is_refused():
    """d 级 is 整体危险; D 级 is "承重结构已不能满足安全使用要求，房屋整体出现险情，构成整幢危房", while C 级 is
    "部分承重结构不能满足安全使用要求，局部出现险情". With every component in danger there is no part left that
    meets the requirements: the guideline's words leave only D."""
    assert refused(appraisal("C", every="d", recommendation="repair")) == {"grade": EVERY_D}
    assert refused(appraisal("C", every="d", recommendation="repair", concrete_frame="n")) == {"grade": EVERY_D}
    assert refused(appraisal("D", every="d", recommendation="rebuild")) == {}
    # one d among others: C or D as the share of dangerous load-bearing parts decides (综合判定), no rule
    assert refused(appraisal("C", every="c", recommendation="repair", load_bearing_walls="d")) == {}


def test_a_foundation_at_d_graded_c_is_refused():
    """The foundation is judged first ("按地基基础、上部承重结构的顺序"); its danger, "地基基本失去稳定，基础出现局部
    或整体坍塌", carries the whole house: "房屋整体出现险情，构成整幢危房" is D, not C's 局部出现险情."""
    assert refused(appraisal("C", foundation="d", recommendation="repair")) == {"grade": FOUNDATION_D}
    # graded A or B, the first answer is that a d component allows only C or D
    assert refused(appraisal("B", foundation="d")) == {"grade": "有构件评为d级，房屋等级只能为C级或D级。"}
    assert refused(appraisal("D", foundation="d", recommendation="rebuild")) == {}
    # a wall at d with a sound foundation may still be C (局部危房)
    assert refused(appraisal("C", load_bearing_walls="d", recommendation="repair")) == {}


def test_every_component_a_graded_d_is_a_warning_unless_the_site_is_dangerous():
    """a 级 is 无危险点, yet the grade is "在各组成部分危险程度鉴定结果基础上，结合房屋宏观情况进行综合判定": the
    appraiser may see what the components do not (a leaning house), so it is asked, not refused. And "当房屋建设场地
    被判定为危险时，可直接鉴定为D级": with the site hazard recorded, D needs no question."""
    all_a_d = appraisal("D", every="a", recommendation="rebuild")
    assert refused(all_a_d) == {}
    assert warned(all_a_d) == [ALL_A_BUT_D]
    all_a_d.site_hazard = True
    all_a_d.recommendation = "relocate"
    assert refused(all_a_d) == {} and warned(all_a_d) == []


def test_grade_a_with_the_recommendation_to_rebuild_is_refused_and_relocation_is_asked():
    """A 级: "结构能满足安全使用要求，未发现危险点，房屋结构安全". 拆除重建 treats a 危房 (C or D): it cannot be the
    recommendation for a safe house. Relocation may have other reasons (a remote or hazard-prone place), so it is
    asked; and a B house's rebuilding (B: "个别非承重构件处于危险状态，但不影响主体结构安全") too."""
    assert refused(appraisal("A", every="a", recommendation="rebuild")) == {"recommendation": A_REBUILD}
    assert refused(appraisal("A", every="a", recommendation="repair")) == {}
    relocate = appraisal("A", every="a", recommendation="relocate")
    assert refused(relocate) == {} and warned(relocate) == [A_RELOCATE]
    rebuild_b = appraisal("B", recommendation="rebuild")
    assert refused(rebuild_b) == {} and warned(rebuild_b) == [B_REBUILD]
    assert warned(appraisal("C", every="c", recommendation="rebuild")) == []


def test_a_component_at_c_graded_b_is_a_warning():
    """B 级: "个别非承重构件处于危险状态，但不影响主体结构安全"; the form's six components all carry the house, and one
    at c (局部危险) reads as C's "部分承重结构不能满足安全使用要求，局部出现险情". The guideline's 综合判定 leaves room
    (the danger may lie in a member that carries nothing), so it is asked before saving, not refused."""
    b_with_c = appraisal("B", load_bearing_walls="c")
    assert refused(b_with_c) == {} and warned(b_with_c) == [B_WITH_C]
    assert warned(appraisal("B")) == []  # every component b: B as recorded
    assert warned(appraisal("C", every="b", recommendation="repair", load_bearing_walls="c")) == []


@pytest.fixture
def dwelling(db):
    household = HouseholdFactory(head_name="陈金水", village=VillageFactory(township=township("350881100")))
    return DwellingFactory(household=household, address="东坑村3组12号", year_built=1978)


@pytest.fixture
def staff(db):
    return make_user(Role.TOWNSHIP_STAFF, townships=[township("350881100")])


def every(grade: str) -> dict:
    return {name: grade for name in COMPONENTS}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "warning"),
    [
        ({**every("a"), "grade": "D", "recommendation": "rebuild"}, ALL_A_BUT_D),
        ({**every("a"), "grade": "A", "recommendation": "relocate"}, A_RELOCATE),
        ({**every("b"), "grade": "B", "recommendation": "rebuild"}, B_REBUILD),
    ],
)
def test_the_confirmation_page_shows_each_warning_and_writes_nothing_yet(client, staff, dwelling, data, warning):
    client.force_login(staff)
    shown = client.post(reverse("inspections:appraise", args=[dwelling.pk]), appraisal_data(**data))

    assert shown.status_code == 200
    text = body(shown)
    assert "data-grade-warnings" in text and warning in text
    assert not Appraisal.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({**every("d"), "grade": "C", "recommendation": "repair"}, "grade", EVERY_D),
        ({"foundation": "d", "grade": "C", "recommendation": "repair"}, "grade", FOUNDATION_D),
        ({**every("a"), "grade": "A", "recommendation": "rebuild"}, "recommendation", A_REBUILD),
    ],
)
def test_a_refused_grade_writes_nothing_and_says_why_in_chinese(client, staff, dwelling, data, field, message):
    client.force_login(staff)
    answer = client.post(reverse("inspections:appraise", args=[dwelling.pk]), appraisal_data(**data))

    assert answer.status_code == 200
    text = body(answer)
    assert message in text and "data-error-summary" in text and "data-grade-warnings" not in text
    assert not Appraisal.objects.exists()
    with pytest.raises(ValidationError) as refusal, translation.override("zh-hans"):
        services.record_appraisal(
            actor=staff, appraisal=Appraisal(dwelling=dwelling, **appraisal_data(**data, notes=None, kind="formal"))
        )
    assert refusal.value.message_dict[field] == [message]
    assert not Appraisal.objects.exists()


@pytest.mark.django_db
def test_the_set_based_service_refuses_the_whole_batch(staff, dwelling):
    good = Appraisal(dwelling=dwelling, **appraisal_data(notes=None))
    bad = Appraisal(dwelling=dwelling, **appraisal_data(notes=None, **every("d"), grade="C", recommendation="repair"))

    with pytest.raises(ValidationError), translation.override("zh-hans"):
        services.record_appraisals(actor=staff, appraisals=[good, bad])

    assert not Appraisal.objects.exists()


@pytest.mark.django_db
def test_the_excel_import_refuses_the_rows_the_guideline_forbids(staff, dwelling):
    result, errors = import_rows(
        staff,
        [
            {"房屋编号": dwelling.pk, **GOOD, "地基基础": "d", "房屋等级": "C", "处理建议": "修缮加固"},
            {"房屋编号": dwelling.pk, **GOOD, **dict.fromkeys(["地基基础", "承重墙", "木柱/梁/檩", "木屋架", "楼屋盖"], "a"),
             "房屋等级": "A", "处理建议": "拆除重建"},
        ],
    )  # fmt: skip

    assert errors == {1: {"房屋等级": [FOUNDATION_D]}, 2: {"处理建议": [A_REBUILD]}}
    assert result.totals["new"] == 0 and not Appraisal.objects.exists()
