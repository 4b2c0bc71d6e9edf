"""The real services CI promises: PostgreSQL under the suite and a Celery round trip through Redis.

On a laptop (no DATABASE_URL / CELERY_BROKER_URL) these skip with the reason; under REQUIRE_SERVICES=1
(.ci/run) they fail instead, so CI cannot pass on SQLite or without a broker.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from housing_safety.tests.kit import service_missing


@pytest.mark.django_db
def test_suite_runs_on_postgresql():
    if connection.vendor != "postgresql":
        service_missing(f"DATABASE_URL does not point at PostgreSQL (the suite runs on {connection.vendor})")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        assert cursor.fetchone()[0]


@pytest.mark.xdist_group("broker")  # one worker of the parallel suite consumes the real broker's queue
def test_a_task_travels_through_redis_to_a_worker_and_back(celery_inline):
    if not settings.CELERY_BROKER_URL:
        service_missing("CELERY_BROKER_URL is not set (tasks run inline)")
    import redis
    from celery.contrib.testing.worker import start_worker

    from housing_safety.celery import app, ping

    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        service_missing(f"Redis is not reachable at {settings.CELERY_BROKER_URL}: {error}")
    assert settings.CELERY_TASK_ALWAYS_EAGER is False  # what production gets with a broker
    app.conf.task_always_eager = False  # the suite runs tasks inline (conftest.celery_inline); this test must not
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert ping.delay().get(timeout=20) == "pong"
