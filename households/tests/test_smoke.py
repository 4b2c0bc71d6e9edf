from households.models import Household


def test_factories_make_a_scoped_household(home_household, personas):
    from housing_safety.access import Role
    from households.selectors import households_for_user

    assert Household.objects.count() == 1
    assert list(households_for_user(personas[Role.TOWNSHIP_STAFF])) == [home_household]
