import pytest

from households.models import Unit
from housing_safety.access import Role
from housing_safety.tests.kit import make_personas

from .factories import household_with_dwelling, make_user, township


@pytest.fixture
def xinqiao(db):
    return township("350881100")


@pytest.fixture
def shuangyang(db):
    return township("350881101")


@pytest.fixture
def home_household(xinqiao):
    """A household (with a dwelling) in 新桥镇, the township of the `staff` persona."""
    return household_with_dwelling(xinqiao, "东坑村")


@pytest.fixture
def other_household(shuangyang):
    """A household (with a dwelling) in 双洋镇: outside the `staff` persona's scope."""
    return household_with_dwelling(shuangyang, "西山村")


@pytest.fixture
def poverty_office(db):
    return Unit.objects.get(name="漳平市扶贫开发办公室")


@pytest.fixture
def personas(db, xinqiao, poverty_office):
    """One user per role (staff of 新桥镇, the liaison of the poverty office), plus a user without any role."""
    return make_personas(township=xinqiao, unit=poverty_office)


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
