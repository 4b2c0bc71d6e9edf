"""Project-wide pytest setup.

REQUIRE_SERVICES=1 (set by .ci/run) turns "service missing" from a skip into a failure, so CI cannot pass
without PostgreSQL, Redis and Chromium; on a laptop such tests skip with the reason.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def service_missing(reason: str):
    """Fail under REQUIRE_SERVICES, otherwise skip, with the same reason."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def celery_inline():
    """Tests run Celery tasks in the caller even when CI sets a broker; the broker test switches this off."""
    from housing_safety.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def chromium_path():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        service_missing(f"Chromium not found at {CHROMIUM}")
    return CHROMIUM
