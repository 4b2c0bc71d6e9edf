"""The phone's grading rules (static/field/grading.js) give what the server's (inspections/grading.py) give.

The field app checks an appraisal with no signal, so grading.js repeats grading.py's rules; this test runs both on
every combination that can make a difference and compares their answers word for word, in Chinese. What can: the
foundation's grade (one rule reads it alone), the set of grades of the other five components and their order (the
worst component is the first of the worst, as Python's max() takes it), the house grade, the recommendation and
the site hazard. A blank value (a select not chosen yet on the phone) is among them: the server's `in "abcd"` lets
it through, so the phone must too.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from inspections import grading
from inspections.models import Appraisal, ComponentGrade, Grade

pytestmark = pytest.mark.django_db

SCRIPT = Path(settings.BASE_DIR) / "static" / "field" / "grading.js"
COMPONENTS = [name for name, _label in Appraisal.COMPONENTS]
COMPONENT_VALUES = [*ComponentGrade.values, ""]
GRADES = [*Grade.values, ""]
RECOMMENDATIONS = [*Appraisal.Recommendation.values, ""]

# Runs in the page: imports the module as the field app does and answers every case. The cases go in and the
# answers come out as one JSON text each: Playwright carries 35,000 objects one by one ten times slower.
RUN = """async ([url, cases, messages]) => {
  const grading = await import(url);
  return JSON.stringify({
    components: grading.COMPONENTS,
    answers: JSON.parse(cases).map((appraisal) => [
      grading.refusals(appraisal, messages),
      grading.warnings(appraisal, messages),
    ]),
  });
}"""


def component_patterns() -> list[tuple[str, ...]]:
    """(foundation, the other five): every foundation grade × every set of grades the other five can hold, laid out
    in both orders."""
    others = []
    for size in range(1, len(COMPONENTS)):  # a set of at most five grades fits five components
        for chosen in itertools.combinations(COMPONENT_VALUES, size):
            for order in (chosen, chosen[::-1]):
                others.append(tuple(order[i % size] for i in range(len(COMPONENTS) - 1)))
    return sorted({(foundation, *rest) for foundation in COMPONENT_VALUES for rest in others})


def cases() -> list[dict]:
    return [
        {
            **dict(zip(COMPONENTS, pattern, strict=True)),
            "grade": grade,
            "recommendation": recommendation,
            "site_hazard": hazard,
        }
        for pattern in component_patterns()
        for grade in GRADES
        for recommendation in RECOMMENDATIONS
        for hazard in (False, True)
    ]


def key_of(message: str, messages: dict[str, str]) -> str:
    """Which rule's text a message is (its %(…)s filled with anything)."""
    found = [
        key
        for key, text in messages.items()
        if re.fullmatch(re.sub(r"%\\\(\w+\\\)s", ".*", re.escape(text)), message, re.DOTALL)
    ]
    assert len(found) == 1, (message, found)
    return found[0]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_phone_grades_as_the_server_does(browser, live_server):
    every = cases()
    with translation.override("zh-hans"):
        messages = grading.client_messages()
        expected = []
        for case in every:
            appraisal = Appraisal(**case)
            expected.append([grading.refusals(appraisal), grading.warnings(appraisal)])

    page = browser.new_page()
    page.goto(f"{live_server.url}{settings.STATIC_URL}field/grading.js")  # any page of the site's origin
    url = f"/{settings.STATIC_URL.strip('/')}/field/grading.js"
    answered = json.loads(page.evaluate(RUN, [url, json.dumps(every), messages]))
    page.close()

    assert answered["components"] == COMPONENTS
    differences = [
        (case, python, javascript)
        for case, python, javascript in zip(every, expected, answered["answers"], strict=True)
        if python != javascript
    ]
    assert not differences, f"{len(differences)} of {len(every)} differ, e.g. (case, Python, JavaScript): " + repr(
        differences[:3]
    )

    # Every rule spoke at least once, interpolated as the server does, and the site hazard changed some answer.
    produced = {key_of(text, messages) for refusals, warnings in expected for text in [*refusals.values(), *warnings]}
    assert produced == set(messages)
    warned = {text for _refusals, warnings in expected for text in warnings}
    assert messages["warn_worst"] % {"worst": "b", "grade": "D"} in warned
    assert messages["warn_all_a"] % {"grade": "C"} in warned
    by_hazard = {}
    for case, answer in zip(every, expected, strict=True):
        by_hazard.setdefault(tuple((k, v) for k, v in case.items() if k != "site_hazard"), []).append(answer)
    assert any(answers[0] != answers[1] for answers in by_hazard.values())


def test_the_phone_gets_every_rule_in_chinese():
    with translation.override("zh-hans"):
        messages = grading.client_messages()
    with translation.override("en"):
        english = grading.client_messages()
    assert set(messages) == set(english) == set(grading.MESSAGES)
    for key, text in messages.items():
        assert text != english[key], f"{key} has no Chinese translation"
        assert not re.search(r"[A-Za-z]{3,}", re.sub(r"%\(\w+\)s", "", text)), (key, text)
        assert sorted(re.findall(r"%\(\w+\)s", text)) == sorted(re.findall(r"%\(\w+\)s", english[key])), key
