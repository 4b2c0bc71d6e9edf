"""The outbox: every e-mail the system sends is a row first, so none is lost or sent twice.

A job or service queues a message under an idempotency key (the same key never queues twice); a Celery task
delivers it after commit and records each failure; a periodic job retries what the broker or the mail server
could not take. The bureau administrator sees failures in the admin.
"""

import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .dates import PlausibleYear, due_date, event_date


class OutgoingEmail(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", pgettext_lazy("e-mail", "Sent")
        FAILED = "failed", _("Failed, will be retried")
        GAVE_UP = "gave_up", _("Failed, no more retries")

    key = models.CharField(_("key"), max_length=150, unique=True, help_text=_("The same key is never sent twice."))
    recipients = models.JSONField(_("recipients"), default=list)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    html_body = models.TextField(_("HTML text"), blank=True)
    # [{"path": storage name, "filename": ..., "mimetype": ..., "cid": content id when shown inline}]
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, validators=[event_date])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [models.Index(fields=["status", "created_at"], name="outgoingemail_status_idx")]

    def __str__(self) -> str:
        return self.subject


class DeferredTask(models.Model):
    """A background task the broker did not take when it was asked to (housing_safety.background): the ten-minute
    job sends it again, so an export or a department list started while Redis was down still gets done."""

    key = models.CharField(_("key"), max_length=200, unique=True)  # "<task name>:<args>": asked twice, kept once
    task = models.CharField(_("task"), max_length=150)
    args = models.JSONField(_("arguments"), default=list)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("background task waiting for the broker")
        verbose_name_plural = _("background tasks waiting for the broker")

    def __str__(self) -> str:
        return self.key


class PersonalDataAccess(models.Model):
    """One disclosure of personal data: who saw whose full ID or phone numbers, when, from where and why
    (housing_safety.disclosure). Written once, never changed; the bureau administrator reads them in the admin."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    record_type = models.CharField(_("record type"), max_length=60)  # "app_label.model"
    record_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    record = models.CharField(_("record"), max_length=200)  # what it was, as shown then (names, not numbers)
    reason = models.CharField(_("reason"), max_length=200)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        indexes = [models.Index(fields=["record_type", "record_id"], name="personaldata_record_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.record}"


class Transition(models.Model):
    """One step of a workflow (housing_safety.workflow): from which status to which, who made it, when and why.

    Each workflow's record derives from it, adds the key of the record it moves and gives `from_status` and
    `to_status` its own statuses as choices (and its own length: the columns stay as they were)."""

    from_status = models.CharField(_("from"), max_length=24, blank=True)
    to_status = models.CharField(_("to"), max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        # The statuses' names, not their stored codes: each workflow's record gives the fields its choices.
        names = dict(self._meta.get_field("to_status").flatchoices)
        return f"{names.get(self.from_status, self.from_status)} → {names.get(self.to_status, self.to_status)}"


class Notice(models.Model):
    """One notice in a person's inbox (站内消息): what the system told them and the item it is about.

    Every notice the system sends reaches the people responsible here, whether or not they have an e-mail address
    (housing_safety.notices). A job that runs twice notifies once: the key is unique per recipient."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices", verbose_name=_("recipient")
    )
    key = models.CharField(_("key"), max_length=150)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)  # a path of this site
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True, validators=[event_date])

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [models.UniqueConstraint(fields=["key", "recipient"], name="notice_once_per_recipient")]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_recipient_unread_idx")]

    def __str__(self) -> str:
        return self.title


def held_upload_to(instance, filename: str) -> str:
    # A random stored name: the original name is kept in the row, never in a path.
    return f"held/{uuid.uuid4().hex}"


class HeldUpload(models.Model):
    """A file a form received that was not recorded yet (housing_safety.held_files): the form was refused for another
    field, or it waits for its confirmation. Held for the same person's next submit of the same form, so nobody picks
    a file twice; forgotten after HELD_UPLOAD_HOURS. A row without a field marks a form waiting for its confirmation:
    consumed once, so a second click records nothing twice."""

    batch = models.UUIDField(pgettext_lazy("held file", "form"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    field = models.CharField(pgettext_lazy("held file", "field"), max_length=100, blank=True)
    file = models.FileField(_("file"), upload_to=held_upload_to, max_length=200, blank=True)
    name = models.CharField(_("file name"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("held since"), auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("file held for a form")
        verbose_name_plural = _("files held for forms")

    def __str__(self) -> str:
        return self.name


class HolidayYear(models.Model):
    """One year's statutory holidays as the State Council's notice (国务院办公厅关于某年部分节假日安排的通知) sets
    them: its days off and its make-up working days (调休上班). housing_safety.workdays reads it before the
    chinese-calendar package, so the bureau enters a year the package does not know yet (holidays.py)."""

    class Source(models.TextChoices):
        ENTERED = "entered", _("Entered from the notice")
        PACKAGE = "package", _("Filled from the chinese-calendar package")

    year = models.PositiveSmallIntegerField(_("year"), unique=True, validators=[PlausibleYear(ahead=5)])
    notice_number = models.CharField(
        _("notice number"), max_length=60, blank=True, help_text=_("For example 国办发明电〔2025〕7号.")
    )
    notice_date = models.DateField(_("notice date"), null=True, blank=True, validators=[event_date])
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.ENTERED)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("entered by"),
    )  # fmt: skip
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("holiday arrangement of a year")
        verbose_name_plural = _("holiday arrangements")

    def __str__(self) -> str:
        return _("Holidays of %(year)s") % {"year": self.year}


class HolidayDay(models.Model):
    """A day the notice names: a day off (放假) or a make-up working day (调休上班) on a weekend."""

    class Kind(models.TextChoices):
        OFF = "off", _("Day off")
        WORK = "work", _("Make-up working day")

    calendar = models.ForeignKey(HolidayYear, on_delete=models.CASCADE, related_name="days", verbose_name=_("year"))
    day = models.DateField(_("date"), unique=True, validators=[due_date])
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.OFF)
    name = models.CharField(_("holiday"), max_length=40, blank=True, help_text=_("For example 春节."))

    class Meta:
        ordering = ["day"]
        verbose_name = _("holiday day")
        verbose_name_plural = _("holiday days")

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.name or self.get_kind_display()}"

    def clean(self):
        year = self.calendar.year if self.calendar_id or HolidayDay.calendar.is_cached(self) else None
        errors = {}
        if self.day and year and self.day.year != year:
            errors["day"] = _("This date is not in %(year)s.") % {"year": year}
        elif self.day and self.kind == self.Kind.WORK and self.day.weekday() < 5:
            errors["kind"] = _(
                "A make-up working day falls on a Saturday or Sunday; a weekday is a working day anyway."
            )
        if errors:
            raise ValidationError(errors)


class MadeFileStatus(models.TextChoices):
    """Where a file made in the background for one person stands: a large print (PrintJob) or an export
    (reporting.ExportFile)."""

    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Removed after the retention period")


class PrintJob(models.Model):
    """A large print (a village's appraisal forms, a township's archive covers) laid out in the background for one
    person (housing_safety.printing); its page shows the progress and then the PDF, which only that person
    downloads. The file is removed EXPORT_FILE_RETENTION_DAYS after it was made, like an export's."""

    Status = MadeFileStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    kind = models.CharField(pgettext_lazy("print job", "kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("pages to lay out"), default=0)
    done = models.PositiveIntegerField(_("pages laid out"), default=0)
    file = models.FileField(_("file"), upload_to="print/", max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, validators=[event_date])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")

    def __str__(self) -> str:
        return self.title


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


def check_webhook_url(value: str) -> None:
    """Only http(s): a webhook is a POST to a web address (no file:, ftp: or gopher: URLs)."""
    if urlsplit(value).scheme.lower() not in ("http", "https"):
        raise ValidationError(_("Enter an http:// or https:// address."), code="scheme")


def check_webhook_events(value) -> None:
    """A list of known event codes (housing_safety.webhooks.EVENTS), at least one."""
    from django.utils.translation import gettext, pgettext

    from .webhooks import EVENTS

    if not isinstance(value, list) or not value:
        raise ValidationError(gettext("Choose at least one event."), code="required")
    unknown = [str(code) for code in value if not isinstance(code, str) or code not in EVENTS]
    if unknown:
        raise ValidationError(
            gettext("Unknown events: %(events)s.") % {"events": pgettext("list separator", ", ").join(unknown)},
            code="unknown_event",
        )


class WebhookSubscription(models.Model):
    """A system of the bureau's partners that is told of events by a signed POST to its URL (housing_safety.webhooks).
    The secret is made when the subscription is created; the receiving system checks each request's signature with
    it."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(
        _("URL"),
        max_length=500,
        validators=[check_webhook_url],
        help_text=_("The receiving system's address on the bureau's intranet (http:// or https://)."),
    )
    events = models.JSONField(_("events"), default=list, validators=[check_webhook_events])
    secret = models.CharField(_("signing secret"), max_length=64, default=new_webhook_secret, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        editable=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event to one subscription: kept until delivered, retried with growing pauses, never sent twice
    (UNIQUE subscription and event id; the row is locked while it is sent)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be delivered")
        DELIVERED = "delivered", _("Delivered")
        RETRYING = "retrying", _("Failed, will be retried")
        GAVE_UP = "gave_up", _("Failed, no more retries")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("subscription")
    )
    event = models.CharField(_("event"), max_length=40)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, validators=[due_date])
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True, validators=[event_date])
    last_status_code = models.PositiveSmallIntegerField(_("last answer's status code"), null=True, blank=True)
    last_response = models.TextField(_("last answer"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True, validators=[event_date])

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhookdelivery_once_per_event")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"


class ApiKey(models.Model):
    """A key a system (the 12345 hotline platform, the province's systems) calls the API with (housing_safety.api).

    The key acts as its `user`: a system account the bureau administrator creates with a profile (role, unit,
    townships) for the calling system, so every selector and service scopes the key exactly like that user's pages.
    Only the key's first characters (to find it) and the SHA-256 of the whole key are stored; the key itself is shown
    once, when it is issued (housing_safety.api.keys.issue_key)."""

    name = models.CharField(_("name"), max_length=100, help_text=_("Which system calls with it, e.g. 12345 热线平台."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("system account"),
        help_text=_("The key reads and writes as this account: its role, unit and townships decide what it reaches."),
    )  # fmt: skip
    prefix = models.CharField(_("key prefix"), max_length=8, db_index=True, editable=False)
    key_hash = models.CharField(_("key fingerprint"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(
        _("scopes"), default=list, blank=True,
        help_text=_('What the key may do, e.g. ["read:households", "write:complaints"].'),
    )  # fmt: skip
    expires_at = models.DateTimeField(_("expires at"), validators=[due_date])
    last_used_at = models.DateTimeField(
        _("last used at"), null=True, blank=True, editable=False, validators=[event_date]
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False, validators=[event_date])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False,
        verbose_name=_("created by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"


class IdempotentRequest(models.Model):
    """A POST of the API made with an `Idempotency-Key` (housing_safety.api.idempotency): the caller, the key, what
    was asked (method, path, a hash of the body) and the answer given, so the same request again gets that answer
    and writes nothing. Only answers of writes that went through are kept (a refused one left no row: its transaction
    was rolled back), for API_IDEMPOTENCY_DAYS, then purged nightly with the expired files."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("API key")
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=500)
    body_hash = models.CharField(_("body fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), default=0)
    response_body = models.JSONField(_("response"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotent API request")
        verbose_name_plural = _("idempotent API requests")
        constraints = [
            # one answer per caller (a key, or a person's session: api_key null) and key
            models.UniqueConstraint(
                fields=["user", "api_key", "key"], nulls_distinct=False, name="idempotency_key_once_per_caller"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
