"""The outbox in the admin: what was sent, what failed and why, and a way to try again now."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import mail
from .pagination import BoundedPaginator
from .models import OutgoingEmail, PersonalDataAccess


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


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    """The audit of personal-data disclosures for the bureau administrator: read only, nothing can be removed."""

    list_display = ("at", "user", "record", "reason", "ip_address")
    list_filter = (("at", admin.DateFieldListFilter), "record_type")
    search_fields = ("user__username", "user__first_name", "record", "reason")
    list_select_related = ("user",)
    readonly_fields = [field.name for field in PersonalDataAccess._meta.fields]
    paginator = BoundedPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
