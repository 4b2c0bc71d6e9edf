"""The outbox in the admin: what was sent, what failed and why, and a way to try again now."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import mail
from .models import OutgoingEmail


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    list_display = ("subject", "status", "attempts", "created_at", "sent_at", "last_error")
    list_filter = ("status", "created_at")
    search_fields = ("subject", "key")
    readonly_fields = [field.name for field in OutgoingEmail._meta.fields]
    actions = ["send_now"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected e-mails now"), permissions=["change"])
    def send_now(self, request, queryset):
        waiting = queryset.exclude(status=OutgoingEmail.Status.SENT)
        waiting.filter(status=OutgoingEmail.Status.GAVE_UP).update(status=OutgoingEmail.Status.FAILED)
        sent = failed = 0
        for email_id in waiting.values_list("pk", flat=True):
            try:
                sent += mail.deliver(email_id)
            except mail.MailNotSent:
                failed += 1
        self.message_user(request, ngettext("%d e-mail sent.", "%d e-mails sent.", sent) % sent, messages.SUCCESS)
        if failed:
            self.message_user(
                request,
                ngettext("%d e-mail failed again.", "%d e-mails failed again.", failed) % failed,
                messages.ERROR,
            )
