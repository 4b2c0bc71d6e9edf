"""The township's e-mail about a helper's report, delivered over SMTP to a real (local) server."""

from __future__ import annotations

import pytest

from households.models import Unit
from households.tests.factories import DwellingFactory, HouseholdFactory, VillageFactory, make_user, township
from housing_safety.access import Role
from inspections import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chinese")]


def test_the_township_is_mailed_over_smtp_when_a_helper_reports(smtp_server, monkeypatch):
    xinqiao = township("350881100")
    Unit.objects.filter(township=xinqiao).update(email="xinqiao@zhangping.example")
    helper = make_user(Role.HELPER)
    household = HouseholdFactory(head_name="林秀英", village=VillageFactory(township=xinqiao), helper_user=helper)
    dwelling = DwellingFactory(household=household)
    monkeypatch.setattr("django.db.transaction.on_commit", lambda callback, *args, **kwargs: callback())
    services.report_observation(actor=helper, household=household, dwelling=dwelling, findings=["leaking"],
                                note="屋顶漏雨")  # fmt: skip
    [(_sender, recipients, message)] = smtp_server.messages
    assert recipients == ["xinqiao@zhangping.example"]
    assert "林秀英" in message["Subject"] and "屋顶漏雨" in message.get_content()
