"""Webhooks (housing_safety.webhooks) against a real HTTP receiver on loopback: the receiver checks each request's
signature with the subscription's secret; a receiver that fails twice and then answers gets one delivery row,
delivered at the third attempt; retries wait for their backoff; a given-up delivery is sent again from the admin;
a switched-off subscription gets nothing; two sweeps at once send a delivery once (PostgreSQL); the admin pages."""

from __future__ import annotations

import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from households.tests.factories import make_user, township
from housing_safety import webhooks
from housing_safety.access import Role
from housing_safety.models import WebhookDelivery, WebhookSubscription
from housing_safety.tests.kit import closed_port, service_missing

pytestmark = pytest.mark.django_db

D = WebhookDelivery.Status
EVENT = "case.moved"
PAYLOAD = {"case_id": 7, "case_number": "XQ-2026-001", "township_code": "350881100", "to": "approved"}


def readme_check():
    """The README's example of a receiver's signature check (section "The API", Webhooks), as written there."""
    text = (Path(settings.BASE_DIR) / "README.md").read_text()
    start = text.index("      import hashlib, hmac, time")
    code = "\n".join(line[6:] for line in text[start : text.index("\n\n", start)].splitlines())
    namespace: dict = {}
    exec(code, namespace)
    return namespace["genuine"]


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST, checks its signature with `secret` the way a partner
    system would (the README's example), and answers with the next status of `answers` (then 200)."""

    def __init__(self, answers=(), delay: float = 0.0):
        self.answers = list(answers)
        self.delay = delay
        self.secret = ""
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self
        genuine = readme_check()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signed = genuine(receiver.secret, self.headers, body)
                with receiver.lock:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": json.loads(body), "signed": signed}
                    )
                    status = receiver.answers.pop(0) if receiver.answers else 200
                time.sleep(receiver.delay)
                answer = (b"ok" if signed else b"bad signature") if status < 300 else f"error {status}".encode()
                self.send_response(status if signed else 401)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/zhangping"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def subscribe(receiver: Receiver, events=(EVENT,), **fields) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.create(
        name="12345 热线平台", url=receiver.url, events=list(events), **fields
    )
    receiver.secret = subscription.secret
    return subscription


def emitted(django_capture_on_commit_callbacks, event=EVENT, payload=PAYLOAD):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        return webhooks.emit(event, payload)


# Delivery --------------------------------------------------------------------------------------------------------


def test_an_event_is_posted_signed_to_the_subscriber_after_commit(receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver)

    event_id = emitted(django_capture_on_commit_callbacks)

    [request] = receiver.requests
    assert request["signed"]
    headers = request["headers"]
    assert headers["X-Webhook-Event"] == EVENT and headers["X-Webhook-Id"] == str(event_id)
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert abs(int(headers["X-Webhook-Timestamp"]) - time.time()) < 60
    assert request["body"]["event"] == EVENT and request["body"]["id"] == str(event_id)
    assert request["body"]["data"] == PAYLOAD
    delivery = WebhookDelivery.objects.get()
    assert (delivery.subscription, delivery.event_id, delivery.status) == (subscription, event_id, D.DELIVERED)
    assert (delivery.attempts, delivery.last_status_code, delivery.last_response) == (1, 200, "ok")
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_a_wrong_secret_fails_the_receivers_check(receiver, django_capture_on_commit_callbacks):
    """Control for the signature check: the receiver refuses a request signed with another secret."""
    subscribe(receiver)
    receiver.secret = "not-the-secret"

    emitted(django_capture_on_commit_callbacks)

    assert [request["signed"] for request in receiver.requests] == [False]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code, delivery.last_response) == (D.RETRYING, 401, "bad signature")


def test_a_receiver_failing_twice_gets_one_delivery_delivered_at_the_third_attempt(
    django_capture_on_commit_callbacks,
):
    with Receiver(answers=[500, 503]) as receiver:
        subscribe(receiver)
        event_id = emitted(django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        first = delivery.last_attempt_at
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (D.RETRYING, 1, 500)
        assert delivery.next_attempt_at == first + datetime.timedelta(minutes=1)

        # Not yet due: the sweep leaves it alone.
        assert webhooks.deliver_due(now=first + datetime.timedelta(seconds=59)) == (0, 0)
        assert len(receiver.requests) == 1

        assert webhooks.deliver_due(now=first + datetime.timedelta(minutes=1)) == (0, 1)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (D.RETRYING, 2, 503)
        assert delivery.last_response == "error 503"
        assert delivery.next_attempt_at == first + datetime.timedelta(minutes=1 + 5)
        assert webhooks.deliver_due(now=first + datetime.timedelta(minutes=5)) == (0, 0)

        assert webhooks.deliver_due(now=first + datetime.timedelta(minutes=6)) == (1, 0)
        assert webhooks.deliver_due(now=first + datetime.timedelta(days=2)) == (0, 0)

    assert WebhookDelivery.objects.count() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (D.DELIVERED, 3, 200)
    assert len(receiver.requests) == 3
    assert all(request["signed"] for request in receiver.requests)
    assert {request["headers"]["X-Webhook-Id"] for request in receiver.requests} == {str(event_id)}


def test_retries_back_off_and_then_give_up(django_capture_on_commit_callbacks):
    with Receiver(answers=[500] * 10) as receiver:
        subscribe(receiver)
        emitted(django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        pauses = []
        while delivery.status == D.RETRYING:
            pauses.append(delivery.next_attempt_at - delivery.last_attempt_at)
            webhooks.deliver_due(now=delivery.next_attempt_at)
            delivery.refresh_from_db()

    minutes = datetime.timedelta(minutes=1)
    assert pauses == [minutes, 5 * minutes, 30 * minutes, 120 * minutes, 720 * minutes]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (D.GAVE_UP, webhooks.MAX_ATTEMPTS, None)
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    assert webhooks.deliver_due(now=delivery.last_attempt_at + datetime.timedelta(days=30)) == (0, 0)


def test_a_sweep_starts_nothing_after_its_time_budget(receiver):
    subscription = subscribe(receiver)
    now = webhooks.timezone.now()
    for _ in range(3):
        WebhookDelivery.objects.create(subscription=subscription, event=EVENT, payload=PAYLOAD, next_attempt_at=now)
    assert webhooks.deliver_due(budget=-1) == (0, 0)
    assert webhooks.deliver_due(limit=2) == (2, 0)
    assert webhooks.deliver_due() == (1, 0)
    assert len(receiver.requests) == 3


def test_an_unreachable_receiver_is_recorded_and_retried(django_capture_on_commit_callbacks):
    subscription = WebhookSubscription.objects.create(
        name="省农房系统", url=f"http://127.0.0.1:{closed_port()}/hook", events=[EVENT]
    )

    emitted(django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (D.RETRYING, 1, None)
    assert "Connection refused" in delivery.last_response or "NewConnectionError" in delivery.last_response


def test_a_slow_receiver_times_out(settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    with Receiver(delay=1.0) as receiver:
        subscribe(receiver)
        emitted(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (D.RETRYING, None)
    assert "Timeout" in delivery.last_response


def test_a_switched_off_subscription_or_another_event_gets_nothing(receiver, django_capture_on_commit_callbacks):
    subscribe(receiver, is_active=False)
    subscribe(receiver, events=["appraisal.recorded"])

    assert emitted(django_capture_on_commit_callbacks) is None

    assert not WebhookDelivery.objects.exists() and not receiver.requests


def test_every_active_subscriber_gets_its_own_delivery_of_one_event(django_capture_on_commit_callbacks):
    with Receiver() as first, Receiver() as second:
        subscribe(first)
        WebhookSubscription.objects.create(name="省系统", url=second.url, events=[EVENT, "complaint.moved"])
        second.secret = WebhookSubscription.objects.get(name="省系统").secret
        event_id = emitted(django_capture_on_commit_callbacks)
    assert [len(first.requests), len(second.requests)] == [1, 1]
    assert first.requests[0]["signed"] and second.requests[0]["signed"]
    assert set(WebhookDelivery.objects.values_list("event_id", "status")) == {(event_id, D.DELIVERED)}
    assert WebhookDelivery.objects.count() == 2


def test_an_event_rolled_back_sends_nothing(receiver, django_capture_on_commit_callbacks):
    subscribe(receiver)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        webhooks.emit(EVENT, PAYLOAD)
        raise RuntimeError("the service's write failed")
    assert not callbacks and not WebhookDelivery.objects.exists() and not receiver.requests


def test_one_event_is_kept_once_per_subscription(receiver):
    from django.db import IntegrityError

    subscription = subscribe(receiver)
    delivery = WebhookDelivery.objects.create(subscription=subscription, event=EVENT, payload=PAYLOAD)
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookDelivery.objects.create(subscription=subscription, event=EVENT, event_id=delivery.event_id)


def test_a_delivered_event_is_never_sent_again(receiver, django_capture_on_commit_callbacks):
    subscribe(receiver)
    emitted(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()

    assert webhooks.deliver(delivery.pk) is None
    assert webhooks.resend(WebhookDelivery.objects.all()) == 0
    assert webhooks.deliver_due(now=delivery.delivered_at + datetime.timedelta(days=1)) == (0, 0)
    assert len(receiver.requests) == 1


def test_an_unknown_event_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhooks.emit("case.deleted", {})


# The subscription's rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "events", "field", "message"),
    [
        ("ftp://10.1.2.3/hook", [EVENT], "url", "请输入 http:// 或 https:// 地址。"),
        ("file:///etc/passwd", [EVENT], "url", "请输入 http:// 或 https:// 地址。"),
        ("http://10.1.2.3/hook", ["case.deleted"], "events", "未知事件：case.deleted。"),
        ("http://10.1.2.3/hook", [], "events", "此字段不能为空。"),
        ("http://10.1.2.3/hook", "case.moved", "events", "请至少选择一个事件。"),
    ],
)
def test_a_subscription_takes_http_urls_and_known_events_only(url, events, field, message):
    subscription = WebhookSubscription(name="x", url=url, events=events)
    with pytest.raises(ValidationError) as refused:
        subscription.full_clean()
    assert message in refused.value.message_dict[field]


def test_a_refused_scheme_stored_anyway_is_not_called(django_capture_on_commit_callbacks):
    subscription = WebhookSubscription.objects.create(name="x", url="file:///etc/passwd", events=[EVENT])
    emitted(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status == D.RETRYING and delivery.last_response.startswith("URL refused")


def test_each_subscription_has_its_own_random_secret():
    first = WebhookSubscription.objects.create(name="a", url="http://10.0.0.1/", events=[EVENT])
    second = WebhookSubscription.objects.create(name="b", url="http://10.0.0.2/", events=[EVENT])
    assert len(first.secret) == 64 and first.secret != second.secret


# Two workers at once -------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_send_a_delivery_once():
    if connection.vendor != "postgresql":
        service_missing("two sweeps at once need PostgreSQL's SKIP LOCKED (set DATABASE_URL)")
    with Receiver(answers=[500], delay=0.5) as receiver:
        subscription = subscribe(receiver)
        delivery = WebhookDelivery.objects.create(
            subscription=subscription, event=EVENT, payload=PAYLOAD, next_attempt_at=webhooks.timezone.now()
        )
        barrier = threading.Barrier(2)
        outcomes: list = []

        def sweep():
            try:
                barrier.wait(timeout=10)
                outcomes.append(webhooks.deliver_due())
            except (DatabaseError, threading.BrokenBarrierError) as error:  # shown by the assertion
                outcomes.append(repr(error))
            finally:
                connection.close()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(outcomes) == [(0, 0), (0, 1)]
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status) == (1, D.RETRYING)


# The beat's sweep ----------------------------------------------------------------------------------------------


def test_the_beat_runs_the_sweep_every_minute():
    from django_celery_beat.models import PeriodicTask

    from housing_safety.celery import app

    task = PeriodicTask.objects.get(name="deliver_webhooks")  # migration 0012
    assert task.enabled and task.task == "housing_safety.tasks.deliver_due_webhooks"
    assert (task.crontab.minute, task.crontab.hour) == ("*", "*")
    app.loader.import_default_modules()
    assert task.task in app.tasks


def test_the_sweep_task_delivers_what_the_broker_never_took(receiver):
    from housing_safety.tasks import deliver_due_webhooks

    subscription = subscribe(receiver)
    WebhookDelivery.objects.create(
        subscription=subscription, event=EVENT, payload=PAYLOAD, next_attempt_at=webhooks.timezone.now()
    )
    assert deliver_due_webhooks.delay().get() == "delivered 1, failed 0"
    assert deliver_due_webhooks.delay().get() == "delivered 0, failed 0"
    assert len(receiver.requests) == 1


# The admin -----------------------------------------------------------------------------------------------------


def test_the_bureau_admin_lists_deliveries_with_their_answers_and_resends_given_up_ones(
    client, receiver, django_capture_on_commit_callbacks
):
    subscription = subscribe(receiver)
    given_up = WebhookDelivery.objects.create(
        subscription=subscription, event=EVENT, payload=PAYLOAD, status=D.GAVE_UP, attempts=6,
        last_status_code=502, last_response="Bad Gateway from the platform",
    )  # fmt: skip
    delivered = WebhookDelivery.objects.create(
        subscription=subscription, event="complaint.moved", payload={}, status=D.DELIVERED, attempts=1,
        last_status_code=200, last_response="ok",
    )  # fmt: skip
    client.force_login(make_user(Role.BUREAU_ADMIN))

    page = client.get("/admin/housing_safety/webhookdelivery/").content.decode()
    assert "Bad Gateway from the platform" in page and "发送失败，已停止重试" in page
    assert "案件环节变更" in page and "举报投诉状态变更" in page
    detail = client.get(f"/admin/housing_safety/webhookdelivery/{given_up.pk}/change/")
    assert detail.status_code == 200 and "Bad Gateway from the platform" in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()  # read only

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/housing_safety/webhookdelivery/",
            {"action": "resend", "_selected_action": [given_up.pk, delivered.pk], "index": "0"},
            follow=True,
        )
    assert "已重新排队 1 条推送。" in response.content.decode()
    given_up.refresh_from_db()
    assert (given_up.status, given_up.attempts, given_up.last_status_code) == (D.DELIVERED, 1, 200)
    assert len(receiver.requests) == 1  # the delivered one was not sent again


def test_the_bureau_admin_registers_a_subscription_and_sees_its_secret(client):
    admin = make_user(Role.BUREAU_ADMIN)
    client.force_login(admin)
    assert client.get("/admin/housing_safety/webhooksubscription/add/").status_code == 200

    response = client.post(
        "/admin/housing_safety/webhooksubscription/add/",
        {"name": "12345 热线平台", "url": "http://10.20.1.5/hooks", "events": ["complaint.moved"], "is_active": "on"},
    )

    assert response.status_code == 302
    subscription = WebhookSubscription.objects.get()
    assert (subscription.events, subscription.created_by) == (["complaint.moved"], admin)
    page = client.get(f"/admin/housing_safety/webhooksubscription/{subscription.pk}/change/").content.decode()
    assert subscription.secret in page
    listing = client.get("/admin/housing_safety/webhooksubscription/").content.decode()
    assert "举报投诉状态变更" in listing


def test_a_subscription_form_refuses_other_schemes_in_chinese(client):
    client.force_login(make_user(Role.BUREAU_ADMIN))
    response = client.post(
        "/admin/housing_safety/webhooksubscription/add/",
        {"name": "x", "url": "ftp://10.20.1.5/hooks", "events": ["complaint.moved"]},
    )
    assert response.status_code == 200 and "请输入 http:// 或 https:// 地址。" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("role", [Role.BUREAU_OFFICIAL, Role.TOWNSHIP_STAFF, Role.COMPLAINT_CLERK])
def test_other_roles_see_neither_subscriptions_nor_deliveries(client, role):
    townships = [township("350881100")] if role == Role.TOWNSHIP_STAFF else []
    client.force_login(make_user(role, townships=townships))
    for url in ("/admin/housing_safety/webhooksubscription/", "/admin/housing_safety/webhookdelivery/"):
        assert client.get(url).status_code == 403


def test_the_bureau_admins_home_lists_failing_deliveries_only_while_there_are_some(client, receiver):
    admin = make_user(Role.BUREAU_ADMIN)
    client.force_login(admin)
    assert "Webhook 推送失败" not in client.get("/").content.decode()

    subscription = subscribe(receiver)
    for status in (D.RETRYING, D.GAVE_UP, D.DELIVERED):
        WebhookDelivery.objects.create(subscription=subscription, event=EVENT, payload=PAYLOAD, status=status)
    page = client.get("/").content.decode()
    assert "Webhook 推送失败" in page
    assert "/admin/housing_safety/webhookdelivery/?status__in=retrying,gave_up" in page
    listed = client.get("/admin/housing_safety/webhookdelivery/?status__in=retrying,gave_up").content.decode()
    assert listed.count('name="_selected_action"') == 2

    client.force_login(make_user(Role.BUREAU_OFFICIAL))
    assert "Webhook 推送失败" not in client.get("/").content.decode()


def test_a_new_signing_secret_replaces_the_old_one_at_once(client, receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver)
    old = subscription.secret
    client.force_login(make_user(Role.BUREAU_ADMIN))

    response = client.post(
        "/admin/housing_safety/webhooksubscription/",
        {"action": "new_secret", "_selected_action": [subscription.pk], "index": "0"},
        follow=True,
    )

    assert "1 个订阅已生成新的签名密钥，请告知接收系统。" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.secret != old and len(subscription.secret) == 64
    emitted(django_capture_on_commit_callbacks)  # the receiver still checks with the old secret
    assert [request["signed"] for request in receiver.requests] == [False]
