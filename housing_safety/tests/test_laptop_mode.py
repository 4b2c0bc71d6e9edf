"""Laptop mode (no EMAIL_URL, no CELERY_BROKER_URL), as `make run` starts it: e-mail goes to files in ./tmp-mail, and
tasks run inline without kombu reaching for a broker that is not meant to exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_laptop_mode_writes_mail_to_files_and_runs_tasks_inline_without_a_broker(tmp_path):
    """In a fresh process with the laptop's environment (the suite's own settings override e-mail and Celery)."""
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from housing_safety.celery import ping; "
        "print(settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH, settings.CELERY_TASK_ALWAYS_EAGER, ping.delay().get())"
    )
    unset = {"EMAIL_URL", "CELERY_BROKER_URL", "CELERY_BROKER_WRITE_URL", "DJANGO_ENV", "LOG_LEVEL"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'laptop.sqlite3'}"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    backend, path, eager, answer = done.stdout.split()
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert Path(path) == ROOT / "tmp-mail"
    assert (eager, answer) == ("True", "pong")
    # It came from Celery taking a producer for the inline call: a connection to a default AMQP host on localhost.
    assert "kombu" not in done.stderr and "No hostname" not in done.stderr, done.stderr


def test_make_runs_database_steps_work_on_sqlite(tmp_path):
    """`make run` migrates and seeds the demo on SQLite (the zero-setup default), which lacks some of PostgreSQL's
    lookups (a JSON containment filter once broke the seeding): the two steps in a fresh process on a new file."""
    unset = {"EMAIL_URL", "CELERY_BROKER_URL", "CELERY_BROKER_WRITE_URL", "DJANGO_ENV", "CACHE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}", "MEDIA_ROOT": str(tmp_path / "media")}
    for step in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *step], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
    assert "admin" in done.stdout  # the demo's logins are listed
