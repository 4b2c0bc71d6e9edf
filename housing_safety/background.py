"""Handing work to Celery: the one way the apps enqueue a task (`enqueue_on_commit`), and what happens when the
broker is down.

A page or job that asks for background work never fails because Redis is unreachable: the task is sent after
commit, a refusal is logged and remembered as a DeferredTask row, and the ten-minute job (`send_pending_mail` in
reporting/jobs.py) sends it again. The page tells the user their request waits for the background service
(`BROKER_DOWN_MESSAGE`). E-mail has its own record, the outbox row, which the same job delivers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext_lazy as _

from .models import DeferredTask

logger = logging.getLogger(__name__)

BROKER_DOWN_MESSAGE = _(
    "The background service is unavailable right now. Your request is saved and starts by itself when the service "
    "is back (usually within ten minutes)."
)


@dataclass
class Dispatch:
    """What became of one enqueue; `refused` is known once the transaction that asked has committed."""

    task: str
    args: tuple
    refused: bool = False


def _key(task_name: str, args) -> str:
    return f"{task_name}:{':'.join(str(arg) for arg in args)}"[:200]


def enqueue_on_commit(task, *args, retry_later: bool = True) -> Dispatch:
    """Send `task(*args)` to the broker once the current transaction commits (at once outside one). A broker that
    is down does not break the page or job that asked: the refusal is logged and, with `retry_later` (False when
    the caller keeps its own record that a periodic job retries, like the outbox), kept for the ten-minute job."""
    dispatch = Dispatch(task.name, args)

    def send():
        try:
            task.delay(*args)
        except Exception as error:  # kombu raises OperationalError; the redis client its own errors
            if getattr(task.app.conf, "task_always_eager", False):
                raise  # inline (no broker): this is the task's own error, not the broker's
            dispatch.refused = True
            logger.warning("Broker unreachable, %s%s left for the periodic retry: %s", task.name, args, error)
            if retry_later:
                _remember(task.name, args, error)

    transaction.on_commit(send)
    return dispatch


def _remember(task_name: str, args, error: Exception, attempts: int = 1) -> None:
    try:
        DeferredTask.objects.update_or_create(
            key=_key(task_name, args),
            defaults={"task": task_name, "args": list(args), "attempts": attempts, "last_error": str(error)},
        )
    except DatabaseError:  # the database went too: nothing more this request can do
        logger.exception("Could not remember %s%s for the periodic retry", task_name, args)


def resend_deferred() -> tuple[int, int]:
    """Send every remembered task to the broker again (the ten-minute job); (sent, still refused). The tasks are
    idempotent, so one that reaches the broker twice (a refusal that had in fact got through) does its work once."""
    from .celery import app

    sent = refused = 0
    for deferred in DeferredTask.objects.order_by("created_at"):
        # Taken by deleting it first: a second run of this job at the same time does not send it again, nor does
        # the task itself when it runs inline and is this very job.
        if not DeferredTask.objects.filter(pk=deferred.pk).delete()[0]:
            continue
        task = app.tasks.get(deferred.task)
        if task is None:  # renamed or removed since: nothing can run it
            logger.error("Deferred task %s is not registered; dropped", deferred.key)
            continue
        try:
            task.apply_async(deferred.args)
        except Exception as error:
            _remember(deferred.task, deferred.args, error, attempts=deferred.attempts + 1)
            if getattr(app.conf, "task_always_eager", False):
                raise  # inline: the task's own error, not the broker's
            refused += 1
            continue
        sent += 1
    return sent, refused


def is_waiting(task, *args) -> bool:
    """Whether this task was refused by the broker and waits for the ten-minute retry."""
    return DeferredTask.objects.filter(key=_key(task.name, args)).exists()


def waiting_for(task, ref: str = "pk") -> Exists:
    """Annotation: the row's task (taking the row's `ref` as its one argument) waits for the retry, in the same
    query as the rows."""
    key = Concat(Value(f"{task.name}:"), Cast(OuterRef(ref), output_field=CharField()))
    return Exists(DeferredTask.objects.filter(key=key))
