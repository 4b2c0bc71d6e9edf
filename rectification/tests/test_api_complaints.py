"""Complaints in the API (rectification/api.py): for the roles that see them, scoped like the complaint pages
(another township's complaint is a 404 to township staff), the reporter masked as the pages mask it and read whole
only by the roles that may see reporters, with a reason (logged); filters, bad values a Chinese 400, flat queries."""

import datetime

import pytest
from django.utils import timezone

from households.tests.factories import VillageFactory, make_user
from housing_safety.access import Role
from housing_safety.api import keys
from housing_safety.models import PersonalDataAccess
from housing_safety.tests.kit import api_get, api_key
from rectification import services
from rectification.models import Complaint

pytestmark = pytest.mark.django_db

URL = "/api/v1/complaints/"


def key_for(user, scopes=("read:complaints",)):
    return api_key(user, scopes, name="12345平台")


get = api_get  # (plain key, url, **query)


@pytest.fixture
def clerk(db):
    return make_user(Role.COMPLAINT_CLERK)


def log(clerk, township, **fields) -> Complaint:
    anonymous = fields.get("is_anonymous", False)
    complaint = Complaint(
        channel=fields.pop("channel", Complaint.Channel.HOTLINE),
        received_at=timezone.now() - datetime.timedelta(hours=1),
        reporter_name="" if anonymous else fields.pop("reporter_name", "王举报"),
        reporter_phone="" if anonymous else fields.pop("reporter_phone", "13912345678"),
        township=township,
        category=Complaint.Category.DANGEROUS_NOT_RENOVATED,
        content=fields.pop("content", "李家土坯房裂缝严重，仍有人居住"),
        **fields,
    )
    return services.log_complaint(actor=clerk, complaint=complaint)[0]


def test_the_reporter_is_masked_as_on_the_pages(clerk, xinqiao):
    complaint = log(clerk, xinqiao)
    _key, plain = key_for(clerk)
    for row in (get(plain, f"{URL}{complaint.pk}/").json(), get(plain, URL).json()["results"][0]):
        assert row["reporter_name"] == "王*报" and row["reporter_phone"] == "139****5678"
        assert row["ticket"] == complaint.ticket and row["township"] == xinqiao.pk
        assert row["status"] == "received" and row["category"] == "dangerous_not_renovated"
        assert row["content"] == "李家土坯房裂缝严重，仍有人居住" and row["is_anonymous"] is False
    anonymous = log(clerk, xinqiao, is_anonymous=True)
    row = get(plain, f"{URL}{anonymous.pk}/").json()
    assert row["is_anonymous"] is True and row["reporter_name"] == "" and row["reporter_phone"] == ""


def test_the_complaint_desk_reads_a_reporter_whole_with_a_reason_logged(clerk, xinqiao):
    complaint = log(clerk, xinqiao)
    key, plain = key_for(clerk)
    url = f"{URL}{complaint.pk}/"
    assert get(plain, url, unmask="1").status_code == 400  # no reason
    assert not PersonalDataAccess.objects.exists()
    row = get(plain, url, unmask="1", reason="回访举报人核实情况").json()
    assert row["reporter_name"] == "王举报" and row["reporter_phone"] == "13912345678"
    access = PersonalDataAccess.objects.get()
    assert access.record_type == "rectification.complaint" and access.record_id == complaint.pk
    assert access.reason == f"API，密钥 #{key.pk} {key.prefix}：回访举报人核实情况"
    # the list stays masked
    assert get(plain, URL, unmask="1", reason="回访举报人核实情况").json()["results"][0]["reporter_name"] == "王*报"


def test_township_staff_see_their_townships_complaints_and_never_the_reporter(clerk, xinqiao, shuangyang):
    home, other = log(clerk, xinqiao), log(clerk, shuangyang)
    _key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    assert [row["id"] for row in get(plain, URL).json()["results"]] == [home.pk]
    assert get(plain, f"{URL}{other.pk}/").status_code == 404
    assert get(plain, URL, township=shuangyang.pk).json()["results"] == []
    response = get(plain, f"{URL}{home.pk}/", unmask="1", reason="回访举报人核实情况")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "您的角色无权查看个人信息。"
    assert not PersonalDataAccess.objects.exists()
    assert "王举报" not in get(plain, f"{URL}{home.pk}/").content.decode()


def test_the_filters_narrow_the_list(clerk, xinqiao, shuangyang):
    village = VillageFactory(township=xinqiao, name="东坑村")
    a = log(clerk, xinqiao, village=village)
    b = log(clerk, xinqiao, channel=Complaint.Channel.HOTLINE_12345, external_ticket="ZP-2026-0815")
    services.move_complaint(actor=clerk, complaint=b, to=Complaint.Status.ACCEPTED)
    c = log(clerk, shuangyang)
    _key, plain = key_for(clerk)

    def ids(**params):
        return [row["id"] for row in get(plain, URL, **params).json()["results"]]

    assert ids() == [a.pk, b.pk, c.pk]
    assert ids(township=xinqiao.pk) == [a.pk, b.pk]
    assert ids(village=village.pk) == [a.pk]
    assert ids(status="accepted") == [b.pk]
    assert ids(channel="12345") == [b.pk]
    assert ids(external_ticket="ZP-2026-0815") == [b.pk]
    assert ids(external_ticket="ZP-2026-08") == []
    assert get(plain, f"{URL}{b.pk}/").json()["external_ticket"] == "ZP-2026-0815"
    assert ids(status="closed") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"township": "abc"}, "township"),
        ({"village": "1e3"}, "village"),
        ({"status": "open"}, "status"),
        ({"channel": "wechat"}, "channel"),
        ({"changed_since": "5月1日"}, "changed_since"),
    ],
)
def test_bad_parameters_are_a_400_naming_them_in_chinese(clerk, params, field):
    _key, plain = key_for(clerk)
    response = get(plain, URL, **params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error


def test_a_key_without_the_read_scope_is_a_403(clerk, xinqiao):
    complaint = log(clerk, xinqiao)
    _key, plain = key_for(clerk, scopes=["write:complaints"])
    for url in (URL, f"{URL}{complaint.pk}/"):
        response = get(plain, url)
        assert response.status_code == 403
        assert response.json()["errors"][0]["message"] == "此 API 密钥没有“read:complaints”权限范围。"
    _key, plain = key_for(make_user(Role.HELPER))  # helpers do not see complaints
    assert get(plain, URL).status_code == 403


@pytest.mark.parametrize("rows", [1, 6])
def test_list_queries_do_not_grow_with_the_page(django_assert_num_queries, clerk, xinqiao, rows):
    village = VillageFactory(township=xinqiao)
    for n in range(rows):
        log(clerk, xinqiao, village=village, is_anonymous=bool(n % 2))
    key, plain = key_for(make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]))
    keys.touch(key)  # the last use written a moment ago: no UPDATE in the measured call
    # key (with its account), permissions (the user's, its groups'), scope (profile, townships), the page
    with django_assert_num_queries(6):
        assert len(get(plain, URL).json()["results"]) == rows
