"""Request ids and structured logs (housing_safety/request_id.py, settings.LOGGING): every response carries an
X-Request-ID, and in production each log line is one JSON object with the request's id."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from housing_safety.request_id import RequestIdFilter, current_request_id

ROOT = Path(__file__).resolve().parents[2]


def test_a_response_carries_a_new_request_id(client, db):
    response = client.get("/healthz")
    assert uuid.UUID(response["X-Request-ID"]).version == 4
    assert client.get("/healthz")["X-Request-ID"] != response["X-Request-ID"]
    assert current_request_id.get() is None  # forgotten when the response is closed


def test_the_proxys_request_id_is_kept(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="7f3c2a9e4b1d4c8f9a0b1c2d3e4f5a6b")
    assert response["X-Request-ID"] == "7f3c2a9e4b1d4c8f9a0b1c2d3e4f5a6b"


@pytest.mark.parametrize("sent", ["a b", "x" * 65, 'evil"}\n{"level":"CRITICAL', "中文"])
def test_an_odd_request_id_is_replaced(client, db, sent):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert uuid.UUID(response["X-Request-ID"]).version == 4


def test_plain_lines_show_the_request_id_and_a_dash_outside_requests():
    options = {key: value for key, value in settings.LOGGING["formatters"]["plain"].items() if key != "()"}
    formatter = logging.Formatter(**options)

    def line() -> str:
        record = logging.LogRecord("households.views", logging.INFO, __file__, 1, "saved", None, None)
        RequestIdFilter().filter(record)
        return formatter.format(record)

    token = current_request_id.set("req-1")
    try:
        assert line().endswith("INFO households.views [req-1] saved")
    finally:
        current_request_id.reset(token)
    assert line().endswith("INFO households.views [-] saved")


def test_in_production_a_record_logged_during_a_request_is_one_json_line_with_its_request_id(tmp_path):
    """The real settings in a fresh process (DJANGO_ENV=production, LOG_FORMAT unset): a request to /healthz whose
    broker is down logs the health check's warning and Django's 503 line; stderr holds only JSON lines."""
    code = (
        "import django; django.setup(); from django.test import Client; "
        "Client().get('/healthz', HTTP_X_REQUEST_ID='req-2026-42')"
    )
    keep = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "LOG_FORMAT", "LOG_LEVEL"}}
    env = {
        **keep,
        "DJANGO_ENV": "production",
        "SECRET_KEY": "k3y-for-the-logging-test-" + "x7Q!pL9#vR2$mN5&" * 3,
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # closed: the health check logs a warning
        "PYTHONWARNINGS": "ignore",  # Python's own warnings (no collected static files here) are not log records
    }
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]  # every line is JSON
    during_request = [line for line in lines if line.get("request_id") == "req-2026-42"]
    assert {line["logger"] for line in during_request} >= {"housing_safety.health", "django.request"}
    for line in during_request:
        assert {"time", "level", "logger", "message"} <= set(line)
    (warning,) = [line for line in during_request if line["logger"] == "housing_safety.health"]
    assert warning["level"] == "WARNING"
    assert warning["message"] == "health check: the broker did not answer: ConnectionError"
    assert warning["time"].endswith("+00:00")
