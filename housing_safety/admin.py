"""The outbox in the admin: what was sent, what failed and why, and a way to try again now; the personal-data audit;
the schedules' "run now" that survives a broker outage; django-celery-beat's forms without their server errors."""

import json

from celery.schedules import ParseException
from django import forms
from django.contrib import admin, messages
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_celery_beat.admin import CrontabScheduleAdmin as BeatCrontabScheduleAdmin
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.admin import PeriodicTaskForm as BeatPeriodicTaskForm
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from . import mail
from .admin_base import ReadOnlyAdmin
from .background import BROKER_DOWN_MESSAGE, enqueue_on_commit
from .models import OutgoingEmail, PersonalDataAccess
from .pagination import BoundedPaginator


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
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    """The audit of personal-data disclosures for the bureau administrator: read only, nothing can be removed."""

    list_display = ("at", "user", "record", "reason", "ip_address")
    list_filter = (("at", admin.DateFieldListFilter), "record_type")
    search_fields = ("user__username", "user__first_name", "record", "reason")
    list_select_related = ("user",)
    readonly_fields = [field.name for field in PersonalDataAccess._meta.fields]
    paginator = BoundedPaginator
    show_full_result_count = False


admin.site.unregister(PeriodicTask)
admin.site.unregister(CrontabSchedule)


class PeriodicTaskForm(BeatPeriodicTaskForm):
    """django-celery-beat's form, with the server errors of its own answered as form errors (found by
    housing_safety/tests/test_fuzz.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Its registered-task choice takes any value (a worker may know tasks this process does not), NUL too, which
        # PostgreSQL refuses to store.
        self.fields["regtask"].validators.append(ProhibitNullCharactersValidator())

    def clean(self):
        # Its clean reads cleaned_data["task"], absent when the task field refused the name (NUL, too long): that
        # field's error says why.
        if "task" not in self.cleaned_data and not self.cleaned_data.get("regtask"):
            return self.cleaned_data
        return super().clean()

    def clean_headers(self):
        # The model saves empty headers as NULL into a NOT NULL column: empty is no headers.
        self.cleaned_data["headers"] = self.cleaned_data.get("headers", "").strip() or "{}"
        return self._clean_json("headers")


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    """django-celery-beat's schedules, whose "run selected tasks" goes through the one enqueue helper
    (housing_safety.background): with the broker down the administrator is told and the run is kept for the
    ten-minute retry, instead of a server error. The schedules here take positional arguments only."""

    form = PeriodicTaskForm

    @admin.action(description=_("Run selected tasks"), permissions=["change"])
    def run_tasks(self, request, queryset):
        self.celery_app.loader.import_default_modules()
        runs = []
        for periodic in queryset:
            task = self.celery_app.tasks.get(periodic.task)
            if task is None:
                missing = _("Task “%(task)s” is not registered.") % {"task": periodic.task}
                self.message_user(request, missing, messages.ERROR)
                return
            runs.append((task, json.loads(periodic.args or "[]")))
        dispatches = [enqueue_on_commit(task, *args) for task, args in runs]
        if any(dispatch.refused for dispatch in dispatches):
            self.message_user(request, BROKER_DOWN_MESSAGE, messages.WARNING)
        else:
            sent = len(dispatches)
            self.message_user(
                request, ngettext("%d task sent to the workers.", "%d tasks sent to the workers.", sent) % sent
            )


class CrontabScheduleForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The time zone's default is a callable, so Django sends its initial value in a hidden field and reads it back
        # to see what changed; django-timezone-field opens any name as a file (OSError for a long one, a 500).
        # Compared with the record's own value instead.
        self.fields["timezone"].show_hidden_initial = False


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(BeatCrontabScheduleAdmin):
    """django-celery-beat's crontab schedules, answering what its own code raises on as form errors."""

    form = CrontabScheduleForm

    @admin.display(description=_("human readable"))
    def human_readable(self, obj):
        # The form sent back with a refused field (minute "-1") shows the description of what was typed: celery's
        # parser raises its own exception there, which the library does not catch.
        try:
            return obj.human_readable
        except (ParseException, ValueError):
            return "—"
