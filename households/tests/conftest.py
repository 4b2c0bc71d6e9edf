import pytest

from households.models import Unit
from housing_safety.access import Role

from .factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township


@pytest.fixture
def xinqiao(db):
    return township("350881100")


@pytest.fixture
def shuangyang(db):
    return township("350881101")


@pytest.fixture
def home_household(xinqiao):
    """A household (with a dwelling) in 新桥镇, the township of the `staff` persona."""
    household = HouseholdFactory(village=VillageFactory(township=xinqiao, name="东坑村"))
    DwellingFactory(household=household)
    return household


@pytest.fixture
def other_household(shuangyang):
    """A household (with a dwelling) in 双洋镇: outside the `staff` persona's scope."""
    household = HouseholdFactory(village=VillageFactory(township=shuangyang, name="西山村"))
    DwellingFactory(household=household)
    return household


@pytest.fixture
def poverty_office(db):
    return Unit.objects.get(name="漳平市扶贫开发办公室")


@pytest.fixture
def personas(db, xinqiao, poverty_office):
    """One user per role, plus an anonymous-equivalent user without any role."""
    return {
        Role.BUREAU_ADMIN: make_user(Role.BUREAU_ADMIN),
        Role.BUREAU_OFFICIAL: make_user(Role.BUREAU_OFFICIAL),
        Role.TOWNSHIP_STAFF: make_user(Role.TOWNSHIP_STAFF, townships=[xinqiao]),
        Role.DEPARTMENT_LIAISON: make_user(Role.DEPARTMENT_LIAISON, unit=poverty_office),
        Role.COMPLAINT_CLERK: make_user(Role.COMPLAINT_CLERK),
        Role.HELPER: make_user(Role.HELPER),
        "no_role": make_user(None),
    }


@pytest.fixture
def chinese():
    """Messages in the bureau's language, for tests that assert the Chinese text."""
    from django.utils.translation import override

    with override("zh-hans"):
        yield


@pytest.fixture
def staff(personas):
    return personas[Role.TOWNSHIP_STAFF]


@pytest.fixture
def admin_user(personas):
    return personas[Role.BUREAU_ADMIN]


@pytest.fixture
def admin(admin_user):
    return admin_user


@pytest.fixture
def official(personas):
    return personas[Role.BUREAU_OFFICIAL]


@pytest.fixture
def helper(personas):
    return personas[Role.HELPER]


@pytest.fixture
def other_staff(shuangyang):
    """Township staff of 双洋镇: the `home_household` (新桥镇) is outside their scope."""
    return make_user(Role.TOWNSHIP_STAFF, townships=[shuangyang])
