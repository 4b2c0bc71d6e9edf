"""The plan's work phases as the bureau's data (issue 24): windows per year, overlapping, edited in the admin."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from rectification.models import CampaignPhase, Problem
from rectification.phases import current_phases, phase_number_on
from rectification.services import phase_on
from reporting.charts import phase_timeline

pytestmark = pytest.mark.django_db
D = datetime.date
YEAR = D.today().year  # the migration seeds the year it runs in and the next


def numbers(day: datetime.date) -> list[int]:
    return [phase.number for phase in current_phases(day)]


@pytest.mark.parametrize("year", [YEAR, YEAR + 1])
def test_the_migration_seeds_the_plans_windows_for_this_year_and_next(year):
    """ "第一阶段（5月中旬-6月上旬）…第二阶段（5月中下旬-6月底）…第三阶段（7月上旬-10月底）…第四阶段（11月上旬-11月底）":
    mid-May is 15 May, early June ends on 10 June, early July starts on 1 July, early November on 1 November."""
    windows = {p.number: (p.starts_on, p.ends_on) for p in CampaignPhase.objects.filter(year=year)}
    assert windows == {
        1: (D(year, 5, 15), D(year, 6, 10)),
        2: (D(year, 5, 15), D(year, 6, 30)),
        3: (D(year, 7, 1), D(year, 10, 31)),
        4: (D(year, 11, 1), D(year, 11, 30)),
    }


def test_several_phases_may_be_current_on_a_day():
    """ "第一阶段（5月中旬-6月上旬）" and "第二阶段（5月中下旬-6月底）" overlap: both are current in late May."""
    assert numbers(D(YEAR, 5, 14)) == []
    assert numbers(D(YEAR, 5, 20)) == [1, 2]
    assert numbers(D(YEAR, 6, 10)) == [1, 2]
    assert numbers(D(YEAR, 6, 11)) == [2]
    assert numbers(D(YEAR, 8, 1)) == [3]
    assert numbers(D(YEAR, 11, 30)) == [4]
    assert numbers(D(YEAR, 12, 15)) == []
    timeline = phase_timeline(D(YEAR, 5, 20))
    assert [phase["current"] for phase in timeline["phases"]] == [True, True, False, False]
    assert timeline["within"] and len({phase["y"] for phase in timeline["phases"]}) == 4  # a lane each


def test_the_windows_are_data_the_bureau_edits_not_months_in_code():
    """ "each year's windows are data the bureau can edit": a later third phase moves the answer, and a new problem's
    phase follows it (the latest phase begun among those current; between phases the last one begun)."""
    assert phase_on(D(YEAR, 7, 5)) == Problem.Phase.MONITORING
    assert phase_on(D(YEAR, 5, 20)) == Problem.Phase.RECTIFICATION  # 一 and 二 both current: 二 began as late
    CampaignPhase.objects.filter(year=YEAR, number=3).update(starts_on=D(YEAR, 7, 10))
    assert numbers(D(YEAR, 7, 5)) == []
    assert phase_on(D(YEAR, 7, 5)) == Problem.Phase.RECTIFICATION  # 二 was the last to begin
    assert phase_on(D(YEAR, 1, 5)) == Problem.Phase.SELF_INSPECTION  # before any phase: the list of 一
    assert phase_number_on(D(YEAR, 12, 20)) == Problem.Phase.SUMMARY
    # a year not entered reads the nearest entered year's windows (the bureau's dates, not months in code) ...
    assert numbers(D(YEAR + 5, 7, 5)) == [3] and numbers(D(YEAR + 5, 5, 20)) == [1, 2]
    CampaignPhase.objects.filter(year=YEAR).delete()
    # ... while the dashboard says it is missing
    assert phase_timeline(D(YEAR, 6, 1))["missing"] is True


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "field"),
    [(D(YEAR, 7, 1), D(YEAR, 6, 30), "ends_on"), (D(YEAR - 1, 12, 1), D(YEAR, 1, 31), "starts_on")],
)
def test_a_window_ending_before_it_starts_or_outside_its_year_is_refused(starts_on, ends_on, field):
    """A phase of the plan lies within its year ("5月中旬-6月上旬"), and starts before it ends."""
    phase = CampaignPhase(year=YEAR, number=5, name="第五阶段", starts_on=starts_on, ends_on=ends_on)
    with pytest.raises(ValidationError) as refused:
        phase.full_clean()
    assert field in refused.value.message_dict


def test_the_admin_edits_a_phase_in_chinese_and_refuses_a_bad_window(client, admin, chinese):
    client.force_login(admin)
    phase = CampaignPhase.objects.get(year=YEAR, number=1)
    url = reverse("admin:rectification_campaignphase_change", args=[phase.pk])
    page = client.get(url).content.decode()
    assert "工作阶段" in page and "开始日期" in page and "结束日期" in page
    version = re.search(r'name="_version" value="([^"]*)"', page).group(1)  # the form's version (HistoryAdmin)
    form = {"year": YEAR, "number": 1, "name": phase.name, "starts_on": f"{YEAR}-06-20", "ends_on": f"{YEAR}-06-10"}
    form["_version"] = version
    refused = client.post(url, form)
    assert refused.status_code == 200 and "阶段结束日期不能早于开始日期" in refused.content.decode()
    phase.refresh_from_db()
    assert phase.starts_on == D(YEAR, 5, 15)
    form.update(starts_on=f"{YEAR}-05-18", ends_on=f"{YEAR}-06-12")
    assert client.post(url, form).status_code == 302
    phase.refresh_from_db()
    assert (phase.starts_on, phase.ends_on) == (D(YEAR, 5, 18), D(YEAR, 6, 12))
