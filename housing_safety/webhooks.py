"""Webhooks: other systems of the bureau (the 12345 hotline platform, the province's systems) are told of events by
a signed POST to the URL they registered (WebhookSubscription, in the admin).

- `emit(event, payload)`, called by a service inside its transaction, writes one pending WebhookDelivery per active
  subscription to that event (one INSERT … SELECT whatever their number) and sends them after commit (a Celery
  task). An event that rolls back sends nothing; a delivery row is the record, like the e-mail outbox's.
- `deliver(delivery_id)` POSTs the payload as JSON with the event's code and id, a timestamp and an HMAC-SHA256
  signature over "<timestamp>.<body>" with the subscription's secret. A 2xx answer is delivered; anything else (an
  error status, a timeout, a refused connection) is retried after RETRY_DELAYS, then given up. The row is locked
  (SKIP LOCKED) while it is sent, so two workers never send one delivery; UNIQUE(subscription, event id) keeps one
  event from being queued twice for a subscription.
- `deliver_due()` is the beat's every-minute sweep (migration 0013): every delivery whose next attempt is due.

Payloads carry ids, codes, dates and statuses only: no names, ID numbers or phone numbers.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import urllib3
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .background import enqueue_on_commit
from .models import WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    code: str
    label: Promise


EVENTS: dict[str, Event] = {
    event.code: event
    for event in (
        Event("appraisal.recorded", _("Appraisal recorded")),
        Event("household.status_changed", _("Household's housing-security status changed")),
        Event("case.moved", _("Renovation case moved to another step")),
        Event("complaint.moved", _("Complaint moved to another status")),
    )
}
EVENT_CHOICES = [(event.code, event.label) for event in EVENTS.values()]

# Pauses after the 1st, 2nd, … failed attempt; after the last one the delivery is given up (1 + 5 attempts).
RETRY_DELAYS = [
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
    datetime.timedelta(hours=12),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
TIMEOUT_SECONDS = 5
RESPONSE_KEPT = 2000  # characters of the receiver's answer kept on the row
SWEEP_SECONDS = 50  # a sweep starts no delivery after this, within the task's time limit and before the next run
TASK_CHUNK = 100  # deliveries per task sent after commit
USER_AGENT = "zhangping-housing-safety-webhooks/1"
DUE = [WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]

_http = urllib3.PoolManager(retries=False)


def _timeout() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", TIMEOUT_SECONDS))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Webhook-Signature header's value: "sha256=" and the HMAC-SHA256 of "<timestamp>.<body>"."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body_of(delivery: WebhookDelivery) -> bytes:
    """The POST body: the event's code and id, when it happened and its payload, as compact UTF-8 JSON."""
    document = {
        "event": delivery.event,
        "id": str(delivery.event_id),
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


def subscribers(event: str) -> list[int]:
    """The active subscriptions to `event` (one query). The bureau registers a handful of systems, so their event lists
    are matched here: SQLite (the demo's database) has no JSON containment lookup."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    active = WebhookSubscription.objects.filter(is_active=True).values_list("pk", "events")
    return [pk for pk, events in active if event in events]


def emit(event: str, payload: dict | Callable[[], dict]) -> uuid.UUID | None:
    """Queue `event` for every active subscription to it, in the caller's transaction, and send after commit.

    `payload` is the event's data (ids, codes, dates, statuses: no personal data), or a function that makes it, called
    only when someone subscribes (so an event nobody listens to costs one query). Returns the event's id, or None
    when nobody subscribes."""
    ids = emit_many(event, [payload])
    return ids[0] if ids else None


def emit_many(
    event: str, payloads: Iterable[dict | Callable[[], dict]] | Callable[[], Iterable[dict]]
) -> list[uuid.UUID]:
    """Several events of one kind (one id each), queued in one INSERT for all their subscriptions; their ids.
    `payloads` may be a function that makes the list, called only when someone subscribes."""
    if not callable(payloads):
        payloads = list(payloads)
        if not payloads:
            return []
    subscriptions = subscribers(event)
    if not subscriptions:
        return []
    if callable(payloads):
        payloads = list(payloads())
    rows, event_ids = [], []
    for payload in payloads:
        data = json.loads(json.dumps(payload() if callable(payload) else payload, cls=DjangoJSONEncoder))
        event_id = uuid.uuid4()
        event_ids.append(event_id)
        rows += [
            WebhookDelivery(subscription_id=pk, event=event, event_id=event_id, payload=data) for pk in subscriptions
        ]
    now = timezone.now()
    for row in rows:
        row.next_attempt_at = now
    created = [delivery.pk for delivery in WebhookDelivery.objects.bulk_create(rows, batch_size=1000)]
    from .tasks import deliver_webhooks

    # The rows are the record: if the broker refuses, the every-minute sweep delivers them.
    for start in range(0, len(created), TASK_CHUNK):
        enqueue_on_commit(deliver_webhooks, created[start : start + TASK_CHUNK], retry_later=False)
    return event_ids


def _record(delivery: WebhookDelivery, now: datetime.datetime, status: int | None, answer: str) -> bool:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = status
    delivery.last_response = answer[:RESPONSE_KEPT]
    delivered = status is not None and 200 <= status < 300
    if delivered:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.DELIVERED, now, None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.GAVE_UP, None
    else:
        delivery.status = WebhookDelivery.Status.RETRYING
        delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
    delivery.save(
        update_fields=[
            "attempts", "last_attempt_at", "last_status_code", "last_response", "status", "delivered_at",
            "next_attempt_at",
        ]
    )  # fmt: skip
    return delivered


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(status code, answer) of one POST; (None, why) when there was no answer."""
    subscription = delivery.subscription
    if urllib3.util.parse_url(subscription.url).scheme not in ("http", "https"):
        return None, "URL refused: only http:// and https:// addresses are called"
    body = body_of(delivery)
    timestamp = str(int(time.time()))  # when it is sent (the receiver refuses old ones), whatever `now` says
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Id": str(delivery.event_id),
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": sign(subscription.secret, timestamp, body),
    }
    try:
        response = _http.request(
            "POST",
            subscription.url,
            body=body,
            headers=headers,
            redirect=False,
            timeout=urllib3.Timeout(total=_timeout()),
            preload_content=False,
        )
        try:
            answer = response.read(RESPONSE_KEPT * 4, decode_content=True).decode("utf-8", "replace")
        finally:
            response.release_conn()
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
        return None, f"{type(error).__name__}: {error}"
    return response.status, answer


def deliver(delivery_id: int, *, now: datetime.datetime | None = None) -> bool | None:
    """Send one delivery if it is due (by `now`, default the current time) and not being sent by another worker.

    True when delivered, False when this attempt failed (recorded, retried later or given up), None when there was
    nothing to do: delivered already, given up, not yet due, or locked by another worker right now."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id, status__in=DUE, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        status, answer = _post(delivery)
        delivered = _record(delivery, now, status, answer)
    if not delivered:
        logger.warning(
            "Webhook %s %s to %s failed (attempt %s): %s %s",
            delivery.event, delivery.event_id, delivery.subscription.name, delivery.attempts, status, answer[:200],
        )  # fmt: skip
    return delivered


def deliver_many(delivery_ids: Iterable[int], *, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Send these deliveries one by one; (delivered, failed)."""
    delivered = failed = 0
    for delivery_id in delivery_ids:
        result = deliver(delivery_id, now=now)
        delivered += result is True
        failed += result is False
    return delivered, failed


def deliver_due(
    *, now: datetime.datetime | None = None, limit: int = 500, budget: float = SWEEP_SECONDS
) -> tuple[int, int]:
    """The every-minute sweep: every delivery waiting or failed whose next attempt is due by `now`, oldest first,
    at most `limit` per run and none started after `budget` seconds (receivers that time out leave the rest to the
    next run); (delivered, failed). Two sweeps at once skip each other's rows."""
    now = now or timezone.now()
    due = (
        WebhookDelivery.objects.filter(status__in=DUE, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    started = time.monotonic()
    delivered = failed = 0
    for delivery_id in due:
        if time.monotonic() - started > budget:
            break
        result = deliver(delivery_id, now=now)
        delivered += result is True
        failed += result is False
    return delivered, failed


def resend(deliveries) -> int:
    """Given-up deliveries (a queryset) back in the queue, due now, with a fresh round of attempts; the number
    queued. Delivered ones are never sent again."""
    given_up = deliveries.filter(status=WebhookDelivery.Status.GAVE_UP)
    ids = list(given_up.values_list("pk", flat=True))
    WebhookDelivery.objects.filter(pk__in=ids, status=WebhookDelivery.Status.GAVE_UP).update(
        status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    if ids:
        from .tasks import deliver_webhooks

        enqueue_on_commit(deliver_webhooks, ids, retry_later=False)
    return len(ids)


def todos(user, today):
    """The bureau administrator's home: deliveries the receivers did not take (retried or given up), linked to those
    rows of the deliveries' list, where their answers are read and given-up ones sent again. Nothing while all went
    through."""
    from django.urls import reverse
    from django.utils.translation import gettext, pgettext

    from .workspace import Todo

    if not user.has_perm("housing_safety.view_webhookdelivery"):
        return
    failing = [WebhookDelivery.Status.RETRYING, WebhookDelivery.Status.GAVE_UP]
    count = WebhookDelivery.objects.filter(status__in=failing).count()
    if count:
        yield Todo(
            pgettext("menu section", "System"),
            gettext("Webhook deliveries failing"),
            count,
            reverse("admin:housing_safety_webhookdelivery_changelist") + "?status__in=" + ",".join(failing),
            "danger",
            gettext("Read the receiver's answer; given-up deliveries can be sent again from the list."),
        )
