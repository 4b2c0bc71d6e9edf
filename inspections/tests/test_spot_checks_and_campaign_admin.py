"""Spot checks draw the same sample for the same seed; the campaign admin counts before it launches."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from inspections.models import Campaign, Revisit, SpotCheck, SpotCheckItem
from inspections.services import draw_spot_check, record_spot_check_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return make_user(Role.BUREAU_ADMIN)


@pytest.fixture
def households():
    made = []
    for code in ("350881100", "350881101"):
        village = VillageFactory(township=township(code))
        made += [HouseholdFactory(village=village) for _ in range(12)]
    return made


def sample(spot_check) -> list[int]:
    return list(spot_check.items.order_by("household_id").values_list("household_id", flat=True))


def test_the_same_seed_draws_the_same_households_per_township(households, admin_user):
    first = SpotCheck.objects.create(name="六月抽查", per_township=4, seed="2026-06")
    second = SpotCheck.objects.create(name="复核", per_township=4, seed="2026-06")
    assert draw_spot_check(actor=admin_user, spot_check=first) == 8
    assert draw_spot_check(actor=admin_user, spot_check=second) == 8
    assert sample(first) == sample(second)
    per_township = {}
    for item in first.items.select_related("household__village__township"):
        per_township.setdefault(item.household.village.township.code, []).append(item)
    assert {code: len(items) for code, items in per_township.items()} == {"350881100": 4, "350881101": 4}
    assert draw_spot_check(actor=admin_user, spot_check=first) == 0  # drawn once


def test_an_empty_seed_is_replaced_by_a_recorded_one_and_other_seeds_draw_differently(households, admin_user):
    made = SpotCheck.objects.create(name="随机", per_township=4)
    draw_spot_check(actor=admin_user, spot_check=made)
    made.refresh_from_db()
    assert len(made.seed) == 16
    other = SpotCheck.objects.create(name="另一个", per_township=4, seed="other")
    draw_spot_check(actor=admin_user, spot_check=other)
    assert sample(made) != sample(other)


def test_results_need_a_choice_and_a_mismatch_needs_a_note(households, admin_user):
    made = SpotCheck.objects.create(name="抽查", per_township=1, seed="x")
    draw_spot_check(actor=admin_user, spot_check=made)
    item = made.items.first()
    with pytest.raises(ValidationError):
        record_spot_check_result(actor=admin_user, item=item, result=SpotCheckItem.Result.MISMATCH, notes=" ")
    with pytest.raises(ValidationError):
        record_spot_check_result(actor=admin_user, item=item, result=SpotCheckItem.Result.PENDING)
    record_spot_check_result(
        actor=admin_user, item=item, result=SpotCheckItem.Result.MISMATCH, notes="房屋已拆除，系统仍登记"
    )
    item.refresh_from_db()
    assert (item.result, item.verified_by) == ("mismatch", admin_user)


def test_township_staff_cannot_draw(households):
    staff = make_user(Role.TOWNSHIP_STAFF, townships=[township("350881100")])
    with pytest.raises(PermissionDenied):
        draw_spot_check(actor=staff, spot_check=SpotCheck.objects.create(name="x", per_township=1))
    assert not SpotCheckItem.objects.exists()


def test_campaign_admin_counts_before_launching_and_says_when_nothing_matches(client, admin_user):
    DwellingFactory(
        household=HouseholdFactory(village=VillageFactory(township=township("350881100"))), structure_type="adobe"
    )
    campaign = Campaign.objects.create(
        name="台风后排查", kind="post_disaster", starts_on="2026-08-01", due_on="2026-08-31"
    )
    client.force_login(admin_user)
    page = client.get(f"/admin/inspections/campaign/{campaign.pk}/launch/").content.decode()
    assert "1" in page and not Revisit.objects.exists()
    client.post(f"/admin/inspections/campaign/{campaign.pk}/launch/")
    assert Revisit.objects.filter(campaign=campaign).count() == 1
    empty = Campaign.objects.create(
        name="无匹配", kind="other", starts_on="2026-08-01", due_on="2026-08-31", structure_types=["stone_timber"]
    )
    assert "没有匹配" in client.get(f"/admin/inspections/campaign/{empty.pk}/launch/").content.decode()


def test_campaign_launch_page_is_refused_to_township_staff(client):
    campaign = Campaign.objects.create(name="x", kind="other", starts_on="2026-08-01", due_on="2026-08-31")
    client.force_login(make_user(Role.TOWNSHIP_STAFF, townships=[township("350881100")]))
    assert client.post(f"/admin/inspections/campaign/{campaign.pk}/launch/").status_code == 403
    assert not Revisit.objects.exists()


def _spot_check_form(client, spot_check) -> dict[str, list[str]]:
    """The change page's form as the browser submits it."""
    from housing_safety.tests.fuzzing import forms_of

    page = client.get(f"/admin/inspections/spotcheck/{spot_check.pk}/change/").content.decode()
    form = max((f for f in forms_of(page) if f.method == "post"), key=lambda f: len(f.fields))
    body: dict[str, list[str]] = {}
    for name, value in form.data:
        body.setdefault(name, []).append(value)
    return body


@pytest.fixture
def drawn(households, admin_user):
    made = SpotCheck.objects.create(name="抽查", per_township=1, seed="x")
    draw_spot_check(actor=admin_user, spot_check=made)
    return made


def test_results_are_recorded_in_the_admin_row_by_row(client, admin_user, drawn):
    """Saving the drawn spot check's page with a result was a 500 (the change message read the inline's saved
    objects, which the admin never saved itself; found by test_fuzz.py)."""
    client.force_login(admin_user)
    body = _spot_check_form(client, drawn)
    body["items-0-result"] = [SpotCheckItem.Result.MATCHES]

    response = client.post(f"/admin/inspections/spotcheck/{drawn.pk}/change/", body)

    assert response.status_code == 302
    item = drawn.items.get(pk=body["items-0-id"][0])
    assert (item.result, item.verified_by) == (SpotCheckItem.Result.MATCHES, admin_user)


def test_a_mismatch_without_a_note_is_a_form_error_in_the_admin_and_nothing_is_recorded(client, admin_user, drawn):
    from django.utils.translation import override

    client.force_login(admin_user)
    body = _spot_check_form(client, drawn)
    body["items-0-result"] = [SpotCheckItem.Result.MISMATCH]
    body["items-0-notes"] = ["  "]

    with override("zh-hans"):
        response = client.post(f"/admin/inspections/spotcheck/{drawn.pk}/change/", body)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors[0] == {"notes": ["请说明不相符的情况。"]}
    assert not drawn.items.exclude(result=SpotCheckItem.Result.PENDING).exists()
