"""The project's admin site: INSTALLED_APPS names `AdminConfig` below instead of "django.contrib.admin", so that
`admin.site` is this site and every ModelAdmin registered on it, ours and the libraries' (auth, django-axes,
django-celery-beat), follows the rules here. A rule that only our own ModelAdmins followed would leave the libraries'
pages answering the same input with a server error."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class AdminConfig(DjangoAdminConfig):
    default_site = "housing_safety.admin_site.AdminSite"


class SelectedRowsMixin:
    """A list's action names its rows by their ids (the `_selected_action` boxes); Django filters by them as they
    come, and a value that is no id of the model (text, NUL) was a server error inside that filter. Such a request
    is answered like one with no row ticked: Django's own warning, nothing done."""

    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.to_python(value)
        except ValidationError:
            self.message_user(
                request,
                # Django's own message (and its translation): the same as for a request without any row ticked.
                _("Items must be selected in order to perform actions on them. No items have been changed."),
                messages.WARNING,
            )
            return None
        return super().response_action(request, queryset)


class AdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SelectedRowsMixin):
            # The registered class, with the rules first in its method order (its name and module kept for the
            # admin's checks and messages).
            admin_class = type(
                admin_class.__name__,
                (SelectedRowsMixin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)
