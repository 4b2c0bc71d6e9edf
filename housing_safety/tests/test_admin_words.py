"""The admin without stored codes or links that answer an error (issue 17, "Words"; found by test_crawl.py): a
read-only relation links to the related record only for a reader who may open it; a role's group shows its role's
name; the consolidated report's figures are a table of named figures; a campaign's grades are named and its launch
is offered only to who may launch it."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.translation import override

from households.models import DepartmentList, Grade, Unit
from households.tests.factories import make_user
from housing_safety.access import Role
from inspections.models import Campaign
from reporting.models import ConsolidatedReport

from .test_crawl import offending, read_page

pytestmark = pytest.mark.django_db


def shown(client, url: str) -> tuple[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    return html, offending(read_page(html).texts)


def test_a_read_only_relation_links_only_for_who_may_open_it(client):
    admin_user = make_user(Role.BUREAU_ADMIN)
    unit = Unit.objects.order_by("pk").first()
    listed = DepartmentList.objects.create(
        unit=unit, listed_on=datetime.date(2026, 5, 1), file="lists/2026/a.xlsx", original_name="a.xlsx",
        sha256="0" * 64, uploaded_by=admin_user,
    )  # fmt: skip
    url = f"/admin/households/departmentlist/{listed.pk}/change/"
    user_page, unit_page = f"/admin/auth/user/{admin_user.pk}/change/", f"/admin/households/unit/{unit.pk}/change/"

    client.force_login(admin_user)
    html, _found = shown(client, url)
    assert user_page in html and unit_page in html
    assert client.get(user_page).status_code == 200

    client.force_login(make_user(Role.BUREAU_OFFICIAL))  # may open units, not users
    html, _found = shown(client, url)
    assert user_page not in html and admin_user.username in html  # named, not linked
    assert client.get(user_page).status_code == 403
    assert unit_page in html and client.get(unit_page).status_code == 200


def test_a_role_group_shows_its_role_by_name(client):
    client.force_login(make_user(Role.BUREAU_ADMIN))
    group = Group.objects.get(name=Role.BUREAU_OFFICIAL)
    html, found = shown(client, f"/admin/auth/group/{group.pk}/change/")
    assert not found, found
    with override("zh-hans"):
        assert str(Role.BUREAU_OFFICIAL.label) in html
    assert 'name="name"' not in html  # a role's group is not renamed: its role finds it by its code


def test_the_consolidated_reports_figures_are_a_table_of_named_figures(client):
    report = ConsolidatedReport.objects.create(
        period=datetime.date(2026, 5, 1), built_at=timezone.now(), workbook="reports/a.xlsx",
        key_figures={"covered": 12345, "unappraised": 7, "placard_share": 0.5, "subsidy_paid_year": 20000.5},
    )  # fmt: skip
    client.force_login(make_user(Role.BUREAU_ADMIN))
    html, found = shown(client, f"/admin/reporting/consolidatedreport/{report.pk}/change/")
    assert not found, found
    assert "未鉴定户数" in html and "12345" in html and "50.0%" in html and "20000.50" in html
    assert '"unappraised"' not in html


def test_a_campaigns_grades_are_named_and_its_launch_offered_to_who_may_launch(client):
    campaign = Campaign.objects.create(
        name="台风后排查", kind=Campaign.Kind.POST_DISASTER, starts_on=datetime.date(2026, 8, 1),
        due_on=datetime.date(2026, 8, 31), current_grades=[Grade.C, "none"],
    )  # fmt: skip
    url = f"/admin/inspections/campaign/{campaign.pk}/change/"
    launch = f"/admin/inspections/campaign/{campaign.pk}/launch/"

    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    html, found = shown(client, url)
    assert not found, found
    assert "未鉴定" in html and launch not in html
    assert client.get(launch).status_code == 403

    client.force_login(make_user(Role.BUREAU_ADMIN))
    html, found = shown(client, url)
    assert not found, found
    assert launch in html


def test_a_lead_to_the_discipline_organs_is_named_in_chinese():
    from rectification.models import LeadTransfer

    lead = LeadTransfer(
        direction=LeadTransfer.Direction.OUTGOING, from_unit=Unit.objects.order_by("pk").first(), to_discipline=True,
        subject="线索", sent_on=datetime.date(2026, 5, 1),
    )  # fmt: skip
    with override("zh-hans"):
        assert str(lead).endswith("→ 纪检监察机关")
