"""The outbox in the admin: what was sent, what failed and why, and a way to try again now; the personal-data audit;
the schedules' "run now" that survives a broker outage; django-celery-beat's forms without their server errors."""

import json

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as AuthGroupAdmin
from django.contrib.auth.models import Group, Permission
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import CrontabScheduleAdmin as BeatCrontabScheduleAdmin
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.admin import PeriodicTaskForm as BeatPeriodicTaskForm
from django_celery_beat.admin import PeriodicTaskInline as BeatPeriodicTaskInline
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from . import mail
from .access import Role
from .admin_base import ReadOnlyAdmin
from .api import admin as api_admin  # noqa: F401  (API keys)
from .background import BROKER_DOWN_MESSAGE, enqueue_on_commit
from .models import OutgoingEmail, PersonalDataAccess
from .pagination import BoundedPaginator
from .schedules import describe_crontab


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


def record_type_name(label: str) -> str:
    """A record type ("households.household") as people read it: the model's name."""
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


class RecordTypeFilter(admin.SimpleListFilter):
    """The kinds of record disclosed, by their names rather than their stored labels."""

    title = _("record type")
    parameter_name = "record_type"

    def lookups(self, request, model_admin):
        labels = PersonalDataAccess.objects.order_by().values_list("record_type", flat=True).distinct()
        return [(label, record_type_name(label)) for label in labels]

    def queryset(self, request, queryset):
        return queryset.filter(record_type=self.value()) if self.value() else queryset


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    """The audit of personal-data disclosures for the bureau administrator: read only, nothing can be removed."""

    list_display = ("at", "user", "record", "reason", "ip_address")
    list_filter = (("at", admin.DateFieldListFilter), RecordTypeFilter)
    search_fields = ("user__username", "user__first_name", "record", "reason")
    list_select_related = ("user",)
    fields = readonly_fields = [
        "record_kind" if field.name == "record_type" else field.name for field in PersonalDataAccess._meta.fields
    ]

    @admin.display(description=_("record type"))
    def record_kind(self, obj):
        return record_type_name(obj.record_type)

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


class TaskNameFilter(admin.AllValuesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("task name")


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    """django-celery-beat's schedules, whose "run selected tasks" goes through the one enqueue helper
    (housing_safety.background): with the broker down the administrator is told and the run is kept for the
    ten-minute retry, instead of a server error. The schedules here take positional arguments only."""

    form = PeriodicTaskForm
    # django-celery-beat's task name field has an English name of its own (not marked for translation): its filter
    # is titled here.
    list_filter = ["enabled", "one_off", ("task", TaskNameFilter), "start_time", "last_run_at"]
    list_display = ("name", "enabled", "schedule", "start_time", "last_run_at", "one_off")

    @admin.display(description=_("schedule"))
    def schedule(self, obj):
        return obj.scheduler or "—"

    @admin.display(description=_("schedule in words"))
    def crontab_translation(self, obj):
        return describe_crontab(obj.crontab) if obj.crontab_id else "—"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The library's page reads each crontab's description from this dict: in words, not cron-descriptor's English.
        readable = {crontab.pk: describe_crontab(crontab) for crontab in CrontabSchedule.objects.all()}
        extra_context = {**(extra_context or {}), "readable_crontabs": readable}
        return super(BeatPeriodicTaskAdmin, self).changeform_view(request, object_id, form_url, extra_context)

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


class PeriodicTaskInline(BeatPeriodicTaskInline):
    """The tasks on a schedule, their task named in Chinese (the library's field name is English)."""

    fields = readonly_fields = ("name", "task_name", "args", "kwargs")

    @admin.display(description=_("task name"))
    def task_name(self, obj):
        return obj.task


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(BeatCrontabScheduleAdmin):
    """django-celery-beat's crontab schedules, answering what its own code raises on as form errors."""

    form = CrontabScheduleForm
    inlines = [PeriodicTaskInline]
    list_display = ("human_readable", "minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone")

    @admin.display(description=_("human readable"))
    def human_readable(self, obj):
        # In words (housing_safety.schedules), not cron-descriptor's English; the form sent back with a refused field
        # (minute "-1") shows what was typed.
        return describe_crontab(obj)


# Names stored in English or as codes, shown as people read them ------------------------------------------------------
# The role groups are named by their role's code (access.sync_role_groups finds them by it), and migrate stores
# permission names and django-axes describes its records in English: wherever the admin prints one of them (lists,
# titles, breadcrumbs, history, the permission and group pickers), it prints the Chinese name instead.

_DEFAULT_PERMISSIONS = {
    "add": pgettext_lazy("permission", "Can add %(model)s"),
    "change": pgettext_lazy("permission", "Can change %(model)s"),
    "delete": pgettext_lazy("permission", "Can delete %(model)s"),
    "view": pgettext_lazy("permission", "Can view %(model)s"),
}


def group_name(group: Group) -> str:
    return str(Role(group.name).label) if group.name in Role.values else group.name


def permission_name(permission: Permission) -> str:
    """Django's four permissions of a model from its translated name; the project's own through the catalogue."""
    action = permission.codename.split("_", 1)[0]
    model = permission.content_type.model_class()
    default = model is not None and permission.codename == f"{action}_{model._meta.model_name}"
    if default and action in _DEFAULT_PERMISSIONS:
        return _DEFAULT_PERMISSIONS[action] % {"model": model._meta.verbose_name}
    return gettext(permission.name)


def _access_attempt(attempt) -> str:
    return gettext("Login attempts of %(user)s") % {"user": attempt.username}


def _access_log(log) -> str:
    return gettext("Login of %(user)s at %(time)s") % {"user": log.username, "time": log.attempt_time}


Group.__str__ = group_name
Permission.__str__ = lambda permission: f"{permission.content_type} | {permission_name(permission)}"
AccessAttempt.__str__ = _access_attempt
AccessLog.__str__ = _access_log
AccessFailureLog.__str__ = _access_log
CrontabSchedule.__str__ = describe_crontab  # its own is the cron expression with "(m/h/dM/MY/d)"


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuthGroupAdmin):
    """A role's group (named by the role's code, which access.sync_role_groups finds it by) shows its role's name,
    read only: renaming it would cut it off from its role."""

    def get_fields(self, request, obj=None):
        if obj is not None and obj.name in Role.values:
            return ["role_name", "permissions"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "role_name"] if obj is not None and obj.name in Role.values else readonly

    @admin.display(description=pgettext_lazy("group", "name"))
    def role_name(self, obj):
        return group_name(obj)
