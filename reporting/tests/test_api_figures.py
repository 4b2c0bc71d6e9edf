"""The dashboard's figures per area in the API (reporting/api.py, /api/v1/figures/): the very table the dashboard
shows (selectors.township_table, or village_table with ?township=), read as the caller; another township's drill-down
is a 404 to township staff; a bad value a Chinese 400; the query count does not grow with the data."""

import datetime
import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.utils import timezone

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.tests.kit import api_key
from inspections.tests.factories import AppraisalFactory
from reporting import rollup, selectors
from reporting.models import FiguresRefresh

pytestmark = pytest.mark.django_db

URL = "/api/v1/figures/"


def key_for(user, scopes=("read:figures",)):
    return api_key(user, scopes)


def get(plain, url=URL, **params):
    return Client().get(url, params, HTTP_AUTHORIZATION=f"Api-Key {plain}")


def houses(village, count: int, grade: str = "B") -> None:
    dangerous = {"load_bearing_walls": "d", "recommendation": "rebuild"} if grade == "D" else {}
    for _n in range(count):
        AppraisalFactory(
            dwelling=DwellingFactory(household=HouseholdFactory(village=village)), grade=grade, **dangerous
        )


def as_json(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


@pytest.fixture
def villages(xinqiao, shuangyang):
    home, second, other = (
        VillageFactory(township=xinqiao, name="东坑村"),
        VillageFactory(township=xinqiao, name="西坑村"),
        VillageFactory(township=shuangyang, name="西山村"),
    )
    houses(home, 2)
    houses(second, 1, grade="D")
    houses(other, 3)
    return home, second, other


def test_the_city_table_is_the_dashboards(villages, xinqiao, shuangyang):
    official = make_user(Role.BUREAU_OFFICIAL)
    _key, plain = key_for(official)
    body = get(plain).json()
    rows, totals = selectors.township_table(official, timezone.localdate())
    assert body["area"] == "township" and body["township"] is None
    assert body["day"] == timezone.localdate().isoformat()
    assert [(row["id"], row["name"]) for row in body["rows"]] == [(row.area.pk, row.area.name) for row in rows]
    assert [row["figures"] for row in body["rows"]] == as_json([row.figures for row in rows])
    assert body["totals"] == as_json(totals)
    by_id = {row["id"]: row["figures"] for row in body["rows"]}
    assert by_id[xinqiao.pk]["covered"] == 3 and by_id[xinqiao.pk]["grade_D"] == 1
    assert by_id[shuangyang.pk]["covered"] == 3 and body["totals"]["covered"] == 6
    assert {"key": "covered", "label": "帮扶对象户数", "group": "帮扶对象户数", "kind": "count"} in body["columns"]


def test_a_township_drills_down_to_its_villages(villages, xinqiao):
    home, second, _other = villages
    staff = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    _key, plain = key_for(staff)
    body = get(plain, township=xinqiao.pk).json()
    rows, totals = selectors.village_table(staff, xinqiao, timezone.localdate())
    assert body["area"] == "village" and body["township"] == xinqiao.pk
    assert [row["id"] for row in body["rows"]] == [row.area.pk for row in rows] == [home.pk, second.pk]
    assert [row["figures"] for row in body["rows"]] == as_json([row.figures for row in rows])
    assert body["totals"] == as_json(totals) and body["totals"]["covered"] == 3


def test_township_staff_see_only_their_township(villages, xinqiao, shuangyang):
    _key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    body = get(plain).json()
    assert [row["id"] for row in body["rows"]] == [xinqiao.pk] and body["totals"]["covered"] == 3
    response = get(plain, township=shuangyang.pk)
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "未找到，或不在您的权限范围内。"


@pytest.mark.parametrize("value", ["abc", "-1", "0", "1.5"])
def test_a_bad_township_is_a_400_in_chinese(xinqiao, value):
    _key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    response = get(plain, township=value)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "township"
    assert error["message"] == "请输入记录编号（正整数）。"


def test_a_key_without_the_read_scope_is_a_403(xinqiao):
    _key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]), scopes=["read:reports"])
    response = get(plain)
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "此 API 密钥没有“read:figures”权限范围。"
    _key, plain = key_for(make_user(Role.HELPER))  # helpers have no dashboard
    assert get(plain).status_code == 403


@pytest.mark.parametrize("per_village", [1, 4])
def test_queries_do_not_grow_with_the_data(django_assert_num_queries, xinqiao, shuangyang, per_village):
    for township in (xinqiao, shuangyang):
        houses(VillageFactory(township=township), per_village)
    key, plain = key_for(make_user(Role.BUREAU_OFFICIAL))
    keys.touch(key)  # the last use written a moment ago: no UPDATE in the measured call
    # key, permissions, scope, whether the rollup holds today, then the dashboard's own table (selectors.
    # township_table): a GROUP BY per figure; from the rollup, one SUM instead
    with django_assert_num_queries(22):
        assert get(plain).status_code == 200
    rollup.refresh_figures(day=timezone.localdate())
    with django_assert_num_queries(QUERIES_FROM_THE_ROLLUP):
        assert get(plain).status_code == 200


QUERIES_FROM_THE_ROLLUP = 11  # the state, the rollup and leads per unit instead of some twenty GROUP BYs


def test_the_api_root_links_the_figures_and_the_reports(xinqiao):
    _key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    resources = get(plain, "/api/v1/").json()["resources"]
    assert resources["figures"]["url"].endswith("/api/v1/figures/") and resources["figures"]["label"] == "分区统计数据"
    assert resources["reports"]["url"].endswith("/api/v1/reports/") and resources["reports"]["label"] == "单位报告"
    for name in ("appraisals", "revisits", "problems", "cases", "complaints"):
        assert resources[name]["url"].endswith(f"/api/v1/{name}/"), name


@pytest.mark.parametrize("drill_down", [False, True])
def test_the_figures_come_from_the_maintained_rollup_and_say_when(villages, xinqiao, drill_down):
    """As the dashboard's page: once the rollup holds today, the same numbers, read from it, with the moment its
    records were read (`as_of`; null while read live)."""
    staff = make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao])
    _key, plain = key_for(staff)
    params = {"township": xinqiao.pk} if drill_down else {}
    live = get(plain, **params).json()
    assert live["as_of"] is None
    rollup.refresh_figures(day=timezone.localdate())
    rolled = get(plain, **params).json()
    assert rolled["rows"] == live["rows"] and rolled["totals"] == live["totals"] and live["totals"]["covered"] == 3
    assert datetime.datetime.fromisoformat(rolled["as_of"]) == FiguresRefresh.objects.get().as_of
