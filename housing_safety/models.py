"""The outbox: every e-mail the system sends is a row first, so none is lost or sent twice.

A job or service queues a message under an idempotency key (the same key never queues twice); a Celery task
delivers it after commit and records each failure; a periodic job retries what the broker or the mail server
could not take. The bureau administrator sees failures in the admin.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [models.Index(fields=["status", "created_at"], name="outgoingemail_status_idx")]

    def __str__(self) -> str:
        return self.subject
