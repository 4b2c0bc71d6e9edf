"""The Celery application. Tasks are thin adapters over services (see STYLE.md).

Without CELERY_BROKER_URL (a laptop) settings make tasks run inline, so nothing else has to run.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "housing_safety.settings")

app = Celery("housing_safety")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="housing_safety.ping")
def ping() -> str:
    """Round trip used by health checks and the broker test."""
    return "pong"
