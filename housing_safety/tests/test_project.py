"""Project-level guarantees: migrations in step with models, ruff clean, production settings strict."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from households.models import Unit
from housing_safety.models import HolidayYear

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "CACHE_URL"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_models_and_migrations_are_in_step(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_ruff_reports_nothing():
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


def test_production_refuses_to_start_without_its_secrets():
    result = run_manage("check", env={"DJANGO_ENV": "production"})
    assert result.returncode != 0
    assert "SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, CACHE_URL" in result.stderr


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k3y-for-the-deploy-check-" + "x7Q!pL9#vR2$mN5&" * 3,
    "ALLOWED_HOSTS": "zfaq.zhangping.example",
    "DATABASE_URL": "sqlite:////tmp/deploy-check.sqlite3",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
}


def test_production_settings_pass_the_deploy_check_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_seed_demo_refuses_to_run_in_production():
    result = run_manage("seed_demo", env=PRODUCTION_ENV)
    assert result.returncode != 0
    assert "refuses to run in production" in result.stderr


def test_healthz_answers(client, db, settings):
    settings.CELERY_BROKER_URL = ""  # the broker's part: test_health.py
    # Next year's holidays entered, as the administrator does in December (their absence: test_holidays.py)
    HolidayYear.objects.get_or_create(year=timezone.localdate().year + 1)
    # and the discipline commission's address (its absence: test_health.py)
    Unit.objects.filter(receives_lead_report=True).update(email="jw@zhangping.example")
    cache.clear()
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "broker": "not configured"}


def test_interface_is_chinese_even_for_an_english_browser_and_english_is_selectable(client, db):
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "漳平市农村低收入群体住房安全管理系统" in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"})
    page = client.get("/admin/login/")
    assert "Zhangping rural housing safety" in page.content.decode()
