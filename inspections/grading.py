"""The grading rules of an appraisal, read from the national guideline: what it makes a rule is refused, what it
leaves to the appraiser's judgement is a warning shown on the confirmation page before anything is recorded.

Source: 《农村住房安全性鉴定技术导则》(住房和城乡建设部 建村函〔2019〕200号), 房屋危险程度鉴定. Its words, on which
every rule below rests (quoted; the guideline's own numbering of the paragraphs should be checked against the
printed text before it is cited in a letter):

- 组成部分危险程度 (the six components of the national form): a 级 无危险点; b 级 有危险点; c 级 局部危险;
  d 级 整体危险.
- 房屋整体危险程度, "在各组成部分危险程度鉴定结果基础上，结合房屋宏观情况进行综合判定":
  A 级 结构能满足安全使用要求，未发现危险点，房屋结构安全;
  B 级 结构基本满足安全使用要求，个别非承重构件处于危险状态，但不影响主体结构安全;
  C 级 部分承重结构不能满足安全使用要求，局部出现险情，构成局部危房;
  D 级 承重结构已不能满足安全使用要求，房屋整体出现险情，构成整幢危房.
- 场地: 当房屋建设场地被判定为危险时，可直接鉴定为 D 级，提出迁址重建建议 (a dangerous site alone may make
  the house D, whatever its components).
- 地基基础 is judged first ("按地基基础、上部承重结构的顺序"); the guideline's D-level description of the
  foundation is 地基基本失去稳定，基础出现局部或整体坍塌: everything stands on it.

Recommendations follow the grade (DOMAIN.md, 危房改造): C 修缮加固, D 拆除重建 or 迁址 (选址新建); A and B are not
dangerous houses (危房) and get none, or a repair of their individual members.

Appraisal.clean calls `refusals` (so the form, the admin, the Excel import and both services refuse alike);
the confirmation page shows `warnings` (inspections.selectors.grade_warnings).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import Appraisal

COMPONENT_ORDER = "abcd"
GRADE_ORDER = "ABCD"
DANGEROUS = ("C", "D")

# Every text of the rules below, once: refusals() and warnings() use them, and client_messages() hands them to the
# field app, whose static/field/grading.js runs the same rules on the phone. The keys are that contract's names
# (docs/field-app.md, forms.appraisal.messages): renaming one breaks the phones' packages.
MESSAGES = {
    # refusals
    "grade_d_component": _("A component is graded d, so the house can only be C or D."),
    "grade_all_d": _("Every component is graded d (whole danger), so the house is graded D."),
    "grade_foundation_d": _(
        "The foundation is graded d (whole danger): a house standing on it is in danger as a whole, so it is graded D."
    ),
    "grade_c_component_a": _("A component is graded c, so the house can be B at best."),
    "recommendation_needed": _("A grade C or D house needs a recommendation."),
    "recommendation_a_rebuild": _(
        "A grade A house is structurally safe: it cannot be recommended for demolition and rebuilding."
    ),
    # warnings
    "warn_all_a": _("Every component is graded a, yet the house is graded %(grade)s: please check."),
    "warn_worst": _("The worst component is graded %(worst)s, yet the house is graded %(grade)s: please check."),
    "warn_b_with_c": _(
        "A load-bearing component is graded c (dangerous in part), yet the house is graded B (only "
        "non-load-bearing members in danger): please check whether it is C."
    ),
    "warn_a_relocate": _(
        "The house is graded A (structurally safe), yet the recommendation is to relocate: please check, and "
        "give the reason in the notes."
    ),
    "warn_b_rebuild": _(
        "The house is graded B (its main structure is not affected), yet the recommendation is to demolish "
        "and rebuild: please check."
    ),
}


def client_messages() -> dict[str, str]:
    """The rules' texts for the field app, in the active language, placeholders (%(grade)s, %(worst)s) left in."""
    return {key: str(text) for key, text in MESSAGES.items()}


def _text(key: str, **values: str) -> str:
    """MESSAGES[key] in the active language, its placeholders filled."""
    text = str(MESSAGES[key])
    return text % values if values else text


def _graded(appraisal: Appraisal) -> list[str]:
    """The component grades a-d of the components the house has ("n", not present, left out)."""
    return [grade for grade in appraisal.component_grades() if grade in COMPONENT_ORDER]


def refusals(appraisal: Appraisal) -> dict[str, str]:
    """What the guideline makes a rule and this appraisal breaks: {field name: why, in words}; empty when none."""
    errors: dict[str, str] = {}
    graded = set(_graded(appraisal))
    grade = appraisal.grade
    if grade in GRADE_ORDER:
        if "d" in graded and grade not in DANGEROUS:
            # A component in danger (d) is more than B's 个别非承重构件处于危险状态: C or D, as the share decides.
            errors["grade"] = _text("grade_d_component")
        elif graded == {"d"} and grade == "C":
            # Every component d (整体危险): no part of the load-bearing structure meets the requirements, which is
            # D's 承重结构已不能满足安全使用要求, not C's 部分承重结构.
            errors["grade"] = _text("grade_all_d")
        elif appraisal.foundation == "d" and grade == "C":
            # 地基基础 d 级 (整体危险, 地基基本失去稳定): the whole house stands on it, so 房屋整体出现险情 — D,
            # not the C of 局部出现险情.
            errors["grade"] = _text("grade_foundation_d")
        elif "c" in graded and grade == "A":
            # A 级 is 未发现危险点: a component with 局部危险 (c) rules it out.
            errors["grade"] = _text("grade_c_component_a")
    if grade in DANGEROUS and appraisal.recommendation == "none":
        errors["recommendation"] = _text("recommendation_needed")
    elif grade == "A" and appraisal.recommendation == "rebuild":
        # A 级 结构能满足安全使用要求, 房屋结构安全: 拆除重建 is the treatment of a 危房 (C/D), never of a safe house.
        errors["recommendation"] = _text("recommendation_a_rebuild")
    return errors


def warnings(appraisal: Appraisal) -> list[str]:
    """What the guideline leaves to the appraiser's judgement and looks doubtful here, in words; empty when none.

    Shown on the confirmation page: a record cannot be changed once submitted, and these are usually slips.
    """
    found = []
    graded = _graded(appraisal)
    grade = appraisal.grade
    if graded and grade in GRADE_ORDER:
        worst = max(graded, key=COMPONENT_ORDER.index)
        # 综合判定 结合房屋宏观情况: a grade worse than the components may be right (a leaning house), and a
        # dangerous site alone may make a house D (可直接鉴定为D级) — recorded as a site hazard, it needs no question.
        site_explains = grade == "D" and appraisal.site_hazard
        if GRADE_ORDER.index(grade) - COMPONENT_ORDER.index(worst) >= 2 and not site_explains:
            if set(graded) == {"a"}:
                found.append(_text("warn_all_a", grade=grade))
            else:
                found.append(_text("warn_worst", worst=worst, grade=grade))
    if grade == "B" and "c" in graded:
        # B 级 "个别非承重构件处于危险状态，但不影响主体结构安全", while the six components of the form all carry the
        # house: one at c (局部危险) reads as C's "部分承重结构不能满足安全使用要求，局部出现险情". Asked, not refused:
        # the appraiser's 综合判定 may find the danger confined to a member that does not carry the house.
        found.append(_text("warn_b_with_c"))
    if grade == "A" and appraisal.recommendation == "relocate":
        # A 级 房屋结构安全: the house gives no reason to move, but a relocation programme (造福工程) may move a
        # household from a remote or hazard-prone place; the appraiser says which.
        found.append(_text("warn_a_relocate"))
    if grade == "B" and appraisal.recommendation == "rebuild":
        # B 级 个别非承重构件处于危险状态，但不影响主体结构安全: rebuilding is unusual, not forbidden.
        found.append(_text("warn_b_rebuild"))
    return found
