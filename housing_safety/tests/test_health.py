"""/healthz for the load balancer (housing_safety/health.py): 200 when the database and the broker answer, 503 naming
the part that failed, with no address or credential in the answer; one SELECT 1 and one PING."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from housing_safety.tests.kit import service_missing

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT = "redis://:s3cret@127.0.0.1:1/0"  # nothing listens on port 1; the password must not leak


def _today_is(monkeypatch, day: datetime.date) -> None:
    from django.utils import timezone

    real = timezone.localdate
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: real(*a, **k) if a else day)


@pytest.fixture
def in_june(monkeypatch):
    """Outside December: next year's holidays are not awaited yet, so /healthz does not look at the holiday table
    (rectification/tests/test_holidays.py tests what December adds)."""
    _today_is(monkeypatch, datetime.date(2026, 6, 15))


@pytest.fixture
def commission_addressed(db):
    """The discipline commission has its address, so /healthz has nothing to say about the lead report
    (reporting/tests/test_lead_commission.py tests what its absence adds)."""
    from households.models import Unit

    Unit.objects.filter(receives_lead_report=True).update(email="jiwei@zhangping.example")


def test_healthy_without_a_broker_costs_one_query(
    client, commission_addressed, settings, django_assert_num_queries, in_june
):
    """One SELECT 1 once warm (the lead report's address is read once, then cached)."""
    settings.CELERY_BROKER_URL = ""
    client.get("/healthz")
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "not configured"}


def test_in_december_the_missing_year_costs_one_cached_query(
    client, commission_addressed, settings, monkeypatch, django_assert_num_queries
):
    """From 1 December /healthz also says whether next year's holidays are entered: read once, then cached."""
    settings.CELERY_BROKER_URL = ""
    _today_is(monkeypatch, datetime.date(2026, 12, 2))
    client.get("/healthz")
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded", "database": "ok", "broker": "not configured", "holidays": "2027 missing"
    }  # fmt: skip


def test_healthy_with_the_broker_answering(client, commission_addressed, settings, in_june):
    if not django_settings.CELERY_BROKER_URL:
        service_missing("CELERY_BROKER_URL is not set (tasks run inline)")
    response = client.get("/healthz")
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}, (
        f"Redis is not reachable at {django_settings.CELERY_BROKER_URL}"
    )
    assert response.status_code == 200


def test_an_unreachable_broker_gives_503_quickly_without_its_address(client, db, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "failed"}
    assert b"127.0.0.1" not in response.content and b"s3cret" not in response.content


def test_an_unreachable_database_gives_503_without_its_address(tmp_path):
    """A real refused connection, in a fresh process whose DATABASE_URL points at a closed port."""
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(r.status_code, r.content.decode())"
    )
    keep = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env = {**keep, "DATABASE_URL": "postgres://hs:s3cret@127.0.0.1:1/housing_safety", "CELERY_BROKER_URL": ""}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    status, body = done.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "unavailable", "database": "failed", "broker": "not configured"}
    assert "127.0.0.1" not in body and "s3cret" not in body


@pytest.mark.parametrize("method", ["post", "put"])
def test_healthz_is_get_only(client, db, method):
    assert getattr(client, method)("/healthz").status_code == 405
