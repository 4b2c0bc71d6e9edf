"""API keys in the admin: the bureau administrator issues a key to a system account (the plain key shown once, in the
message after saving), sees its last use, and revokes it. A key is never deleted: the calls' log names it."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..models import ApiKey
from . import keys
from .resources import RESOURCES, all_scopes, validate_scopes


def scope_label(scope: str) -> str:
    action, _sep, resource = scope.partition(":")
    label = RESOURCES.get(resource, resource)
    return (_gettext("Read: %(resource)s") if action == "read" else _gettext("Write: %(resource)s")) % {
        "resource": label
    }


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )

    class Meta:
        model = ApiKey
        fields = ["name", "user", "scopes", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [(scope, scope_label(scope)) for scope in all_scopes()]

    def clean_scopes(self):
        return validate_scopes(list(self.cleaned_data.get("scopes") or []))


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "user", "prefix", "scope_list", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("prefix", "last_used_at", "revoked_at", "created_by", "created_at")
    actions = ["revoke_keys"]

    def get_readonly_fields(self, request, obj=None):
        # An issued key's account is fixed: a key moved to another account would carry its scope along unseen.
        return (*self.readonly_fields, "user") if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return format_html("{}", "、".join(scope_label(scope) for scope in obj.scopes))

    def save_model(self, request, obj, form, change):
        plain = None
        if not change:
            obj.created_by = request.user
            plain = keys.set_secret(obj)
        super().save_model(request, obj, form, change)
        if plain:
            self.message_user(
                request,
                format_html(
                    _gettext(
                        "The key of “{name}” is {key} — copy it now: it is shown only once and stored only as a "
                        "fingerprint."
                    ),
                    name=obj.name,
                    key=plain,
                ),
                messages.WARNING,
            )

    @admin.action(description=_("Revoke the selected API keys"), permissions=["change"])
    def revoke_keys(self, request, queryset):
        revoked = sum(keys.revoke(key) for key in queryset)
        self.message_user(
            request, ngettext("%d API key revoked.", "%d API keys revoked.", revoked) % revoked, messages.SUCCESS
        )
