import pytest

from households.models import Unit
from households.tests.conftest import *  # noqa: F403
from households.tests.factories import VillageFactory
from rectification.tests.factories import standards


@pytest.fixture
def world(personas, xinqiao, shuangyang, poverty_office):
    """Two townships with a village each, the personas, the poverty office and 新桥镇's unit, with subsidy standards.
    (Test modules that need another shape define their own `world`, which takes precedence.)"""
    standards()
    return {
        "users": personas,
        "home": VillageFactory(township=xinqiao, name="东坑村"),
        "other": VillageFactory(township=shuangyang, name="西山村"),
        "xinqiao": xinqiao,
        "shuangyang": shuangyang,
        "poverty_office": poverty_office,
        "township_unit": Unit.objects.get(township=xinqiao),
    }
