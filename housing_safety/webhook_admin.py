"""Webhooks in the admin (housing_safety.webhooks): the bureau administrator registers a system's URL for events and
gives its people the signing secret; every delivery is listed with the receiver's answer, read only, and given-up
ones can be sent again."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from . import webhooks
from .models import WebhookDelivery, WebhookSubscription, new_webhook_secret
from .pagination import BoundedPaginator


def event_label(code: str) -> str:
    event = webhooks.EVENTS.get(code)
    return str(event.label) if event else code


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=WebhookSubscription._meta.get_field("url").help_text,
    )
    events = forms.MultipleChoiceField(
        label=_("events"), choices=webhooks.EVENT_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "events", "is_active")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Subscriptions are switched off, not deleted: their deliveries stay as the record."""

    form = WebhookSubscriptionForm
    list_display = ("name", "url", "event_names", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    readonly_fields = ("secret", "created_by", "created_at")

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("events"))
    def event_names(self, obj):
        return pgettext("list separator", ", ").join(event_label(code) for code in obj.events)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    actions = ["new_secret"]

    @admin.action(description=_("Make a new signing secret for the selected subscriptions"), permissions=["change"])
    def new_secret(self, request, queryset):
        """When a secret leaked: the old one stops at once; the receiving system needs the new one (on the page)."""
        renewed = 0
        for subscription in queryset:
            subscription.secret = new_webhook_secret()
            subscription.save(update_fields=["secret"])
            renewed += 1
        self.message_user(
            request,
            ngettext(
                "%d subscription has a new signing secret: give it to the receiving system.",
                "%d subscriptions have a new signing secret: give it to the receiving systems.",
                renewed,
            )
            % renewed,
            messages.WARNING,
        )


class EventFilter(admin.SimpleListFilter):
    title = _("event")
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return webhooks.EVENT_CHOICES

    def queryset(self, request, queryset):
        return queryset.filter(event=self.value()) if self.value() else queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """What was sent to whom and what the receiver answered; written only by housing_safety.webhooks."""

    list_display = (
        "created_at", "event_name", "subscription", "status", "attempts", "last_status_code", "short_response",
        "next_attempt_at", "delivered_at",
    )  # fmt: skip
    list_filter = ("status", EventFilter, "subscription", "created_at")
    search_fields = ("=event_id",)
    list_select_related = ("subscription",)
    fields = readonly_fields = (
        "subscription", "event_name", "event_id", "payload", "status", "attempts", "created_at", "last_attempt_at",
        "last_status_code", "last_response", "next_attempt_at", "delivered_at",
    )  # fmt: skip
    actions = ["resend"]
    paginator = BoundedPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # A delivery's page is read only; the change permission is the list's "send again" action.
        return obj is None and super().has_change_permission(request)

    def get_search_results(self, request, queryset, search_term):
        # The event id is a UUID: a term that is not one finds nothing (instead of a database error).
        term = search_term.strip()
        if term:
            try:
                uuid.UUID(term)
            except ValueError:
                return queryset.none(), False
        return super().get_search_results(request, queryset, term)

    @admin.display(description=_("event"))
    def event_name(self, obj):
        return event_label(obj.event)

    @admin.display(description=_("last answer"))
    def short_response(self, obj):
        text = obj.last_response.strip()
        return text[:80] + ("…" if len(text) > 80 else "")

    @admin.action(description=_("Send the selected given-up deliveries again"), permissions=["change"])
    def resend(self, request, queryset):
        queued = webhooks.resend(queryset)
        self.message_user(
            request,
            ngettext("%d delivery queued again.", "%d deliveries queued again.", queued) % queued,
            messages.SUCCESS if queued else messages.WARNING,
        )
