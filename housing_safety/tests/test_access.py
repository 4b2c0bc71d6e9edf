from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from households.tests.factories import make_user, township
from housing_safety.access import PERSONAL_DATA_PERMISSION, ROLE_PERMISSIONS, Role, scope_of, sync_role_groups


def group_codes(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
def test_each_role_group_has_exactly_the_permissions_of_the_table(role):
    assert group_codes(role) == ROLE_PERMISSIONS[role]


@pytest.mark.django_db
def test_group_sync_repairs_a_hand_edited_group():
    group = Group.objects.get(name=Role.BUREAU_OFFICIAL)
    group.permissions.clear()
    sync_role_groups()
    assert group_codes(Role.BUREAU_OFFICIAL) == ROLE_PERMISSIONS[Role.BUREAU_OFFICIAL]


def test_only_roles_that_need_it_see_personal_data():
    allowed = {role for role, codes in ROLE_PERMISSIONS.items() if PERSONAL_DATA_PERMISSION in codes}
    assert allowed == {Role.BUREAU_ADMIN, Role.TOWNSHIP_STAFF, Role.HELPER}


def test_only_bureau_admin_and_township_staff_may_write_households():
    writers = {role for role, codes in ROLE_PERMISSIONS.items() if "households.change_household" in codes}
    assert writers == {Role.BUREAU_ADMIN, Role.TOWNSHIP_STAFF}


@pytest.mark.django_db
def test_scope_of_township_staff_is_their_townships_and_is_computed_once(django_assert_num_queries):
    staff = make_user(Role.TOWNSHIP_STAFF, townships=[township("350881100"), township("350881105")])
    with django_assert_num_queries(2):  # profile, then its townships
        scope = scope_of(staff)
    with django_assert_num_queries(0):
        assert scope_of(staff) is scope
    assert scope.township_ids == {township("350881100").pk, township("350881105").pk}
    assert not scope.everything


@pytest.mark.django_db
def test_user_without_profile_or_inactive_reaches_nothing():
    nobody = make_user(None)
    assert scope_of(nobody).role is None and not scope_of(nobody).everything
    staff = make_user(Role.BUREAU_OFFICIAL)
    staff.is_active = False
    assert not scope_of(staff).everything
