"""Queue and deliver e-mail through the outbox (housing_safety.models.OutgoingEmail)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.db import transaction
from django.utils import timezone

from .background import enqueue_on_commit
from .models import OutgoingEmail

logger = logging.getLogger(__name__)


class MailNotSent(Exception):
    """The mail server did not take the message; the outbox row records why and it is retried."""


def queue_email(
    *,
    key: str,
    to: Iterable[str],
    subject: str,
    body: str,
    html_body: str = "",
    attachments: Iterable[dict] = (),
) -> OutgoingEmail | None:
    """Queue one message under `key` and deliver it after commit. A key already queued queues nothing (jobs run
    twice send once); no recipient queues nothing and returns None."""
    from .tasks import deliver_email

    recipients = sorted({address for address in to if address})
    if not recipients:
        return None
    email, created = OutgoingEmail.objects.get_or_create(
        key=key,
        defaults={
            "recipients": recipients,
            "subject": subject[:200],
            "body": body,
            "html_body": html_body,
            "attachments": list(attachments),
        },
    )
    if created:
        # The row is the record: if the broker refuses, the ten-minute job delivers it (deliver_pending).
        enqueue_on_commit(deliver_email, email.pk, retry_later=False)
    return email


class _EmailWithInlineImages(EmailMultiAlternatives):
    """mixed[ related[ alternative[text, html], images... ], attachments... ]: mail clients show the images inside
    the HTML and still list the attachments (a top-level multipart/related hides them in some clients)."""

    def __init__(self, *args, inline_images=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.inline_images = list(inline_images)

    def _create_alternatives(self, msg):
        msg = super()._create_alternatives(msg)
        if not self.inline_images:
            return msg
        related = SafeMIMEMultipart(_subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET)
        related.attach(msg)
        for image in self.inline_images:
            related.attach(image)
        return related


def _message(email: OutgoingEmail) -> EmailMultiAlternatives:
    images, files = [], []
    for item in email.attachments:
        with default_storage.open(item["path"], "rb") as handle:
            content = handle.read()
        if item.get("cid"):
            image = MIMEImage(content)
            image.add_header("Content-ID", f"<{item['cid']}>")
            image.add_header("Content-Disposition", "inline", filename=item["filename"])
            images.append(image)
        else:
            files.append((item["filename"], content, item["mimetype"]))
    message = _EmailWithInlineImages(subject=email.subject, body=email.body, to=email.recipients, inline_images=images)
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    for filename, content, mimetype in files:
        message.attach(filename, content, mimetype)
    return message


def deliver(email_id: int) -> bool:
    """Send one queued message unless it was sent already; True when this call sent it.

    The row is locked while sending, so two workers never send the same message. A refused or unreachable
    server is recorded on the row (attempts, last error) and raised as MailNotSent after the record commits.
    """
    failure = None
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().get(pk=email_id)
        if email.status in (OutgoingEmail.Status.SENT, OutgoingEmail.Status.GAVE_UP):
            return False
        try:
            _message(email).send()
        except (OSError, smtplib.SMTPException) as error:
            failure = error
            email.attempts += 1
            email.last_error = f"{timezone.localtime():%Y-%m-%d %H:%M} {type(error).__name__}: {error}"[:2000]
            gave_up = email.attempts >= settings.EMAIL_MAX_ATTEMPTS
            email.status = OutgoingEmail.Status.GAVE_UP if gave_up else OutgoingEmail.Status.FAILED
            email.save(update_fields=["attempts", "last_error", "status"])
        else:
            email.status = OutgoingEmail.Status.SENT
            email.sent_at = timezone.now()
            email.attempts += 1
            email.save(update_fields=["status", "sent_at", "attempts"])
    if failure is not None:
        logger.warning("E-mail %s not sent (attempt %s): %s", email.key, email.attempts, failure)
        raise MailNotSent(str(failure)) from failure
    return True


def deliver_pending() -> tuple[int, int]:
    """Retry every message still waiting or failed (the periodic job); (sent, still failing)."""
    waiting = OutgoingEmail.objects.filter(
        status__in=[OutgoingEmail.Status.PENDING, OutgoingEmail.Status.FAILED]
    ).order_by("created_at")
    sent = failed = 0
    for email_id in waiting.values_list("pk", flat=True):
        try:
            sent += deliver(email_id)
        except MailNotSent:
            failed += 1
    return sent, failed


def todos(user, today):
    """The bureau administrator's home: e-mails the mail server refused (retried or given up), linked to those rows of
    the outbox in the admin, where they can be read and sent again."""
    from django.urls import reverse
    from django.utils.translation import gettext as _
    from django.utils.translation import pgettext

    from .workspace import Todo

    if not user.has_perm("housing_safety.view_outgoingemail"):
        return
    failing = [OutgoingEmail.Status.FAILED, OutgoingEmail.Status.GAVE_UP]
    count = OutgoingEmail.objects.filter(status__in=failing).count()
    yield Todo(
        pgettext("menu section", "System"),
        _("E-mails failing"),
        count,
        reverse("admin:housing_safety_outgoingemail_changelist") + "?status__in=" + ",".join(failing),
        "danger" if count else "muted",
        _("Read the error, then send them again from the list."),
    )
