"""axe-core in headless Chromium (issue 17, "Checks"): each role's home and its main forms have no accessibility
violation of serious or critical impact (labels, contrast, landmarks, names of buttons and links).

axe-core comes from the npm registry into node_modules/ (`make install`, package.json), not from a CDN. The pages'
content security policy allows no inline script or style: a <script> tag that Playwright adds with the file's text
(page.add_script_tag) would be refused, so the file's text is run through page.evaluate (DevTools' own evaluation);
and axe itself sets style attributes while it measures (on the admin's change form), which the policy refuses too.
So the pages checked here open in a browser context with bypass_csp=True, for the axe check only: the policy and
its reports are the browser journeys' business (the `browser` fixture fails them on any report)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from housing_safety.tests.kit import log_in, service_missing
from inspections.models import Campaign, Revisit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        service_missing(f"axe-core not installed at {AXE.relative_to(AXE.parents[2])} (make install)")
    return AXE.read_text(encoding="utf-8")


def violations(page, axe_source: str) -> list[str]:
    """axe's serious and critical violations on the page as it is, one line per element."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source + "\n;0")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url}: {rule['id']} ({rule['impact']}): {node['target']} {node['failureSummary'][:160]}"
        for rule in result["violations"]
        if rule["impact"] in BLOCKING
        for node in rule["nodes"]
    ]


def world(role: str):
    """The role's user and the records its forms need: a household of its township with a house due for a revisit,
    the helper's household, the liaison's unit."""
    xinqiao = township("350881100")
    unit = Unit.objects.get(name="漳平市扶贫开发办公室") if role == Role.DEPARTMENT_LIAISON else None
    user = make_user(
        role, username=f"axe-{role}", townships=[xinqiao] if role == Role.TOWNSHIP_STAFF else (), unit=unit
    )
    household = HouseholdFactory(
        village=VillageFactory(township=xinqiao),
        registered_on=timezone.localdate() - datetime.timedelta(days=60),
        helper_user=user if role == Role.HELPER else None,
    )
    dwelling = DwellingFactory(household=household)
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="季度回访",
        kind=Campaign.Kind.QUARTERLY,
        starts_on=today - datetime.timedelta(days=10),
        due_on=today + datetime.timedelta(days=30),
    )
    campaign.townships.set([xinqiao])
    revisit = Revisit.objects.create(campaign=campaign, dwelling=dwelling, due_on=today + datetime.timedelta(days=5))
    return user, household, dwelling, revisit


# role -> the pages checked besides its home, from its records
FORMS = {
    Role.TOWNSHIP_STAFF: lambda h, d, r: [f"/field/dwellings/{d.pk}/appraise/", f"/field/revisits/{r.pk}/"],
    Role.HELPER: lambda h, d, r: [f"/helper/households/{h.pk}/report/"],
    Role.COMPLAINT_CLERK: lambda h, d, r: ["/complaints/new/"],
    Role.DEPARTMENT_LIAISON: lambda h, d, r: ["/lists/"],
    Role.BUREAU_OFFICIAL: lambda h, d, r: ["/dashboard/"],
    Role.BUREAU_ADMIN: lambda h, d, r: ["/admin/", f"/admin/households/household/{h.pk}/change/"],
}


@pytest.mark.parametrize("role", list(FORMS))
def test_each_roles_home_and_main_forms_have_no_serious_accessibility_violation(browser, live_server, axe_source, role):
    user, household, dwelling, revisit = world(role)
    found = []
    for width in (1440, 390):
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": 900}, bypass_csp=True
        )
        page = context.new_page()
        log_in(page, live_server.url, user.username)
        found += violations(page, axe_source)
        for path in FORMS[role](household, dwelling, revisit):
            page.goto(f"{live_server.url}{path}")
            found += violations(page, axe_source)
        context.close()
    assert not found, "\n".join(dict.fromkeys(found))


def test_a_violation_is_found_where_there_is_one(browser, live_server, axe_source):
    """The control: axe run this way does report a serious violation (an image button without a name)."""
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"{live_server.url}/q/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<button></button>')")
    assert any("button-name" in line for line in violations(page, axe_source))
