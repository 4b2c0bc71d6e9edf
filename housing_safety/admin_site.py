"""The project's admin site: INSTALLED_APPS names `AdminConfig` below instead of "django.contrib.admin", so that
`admin.site` is this site and every ModelAdmin registered on it, ours and the libraries' (auth, django-axes,
django-celery-beat), follows the rules here. A rule that only our own ModelAdmins followed would leave the libraries'
pages answering the same input with a server error."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import ValidationError
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _


class AdminConfig(DjangoAdminConfig):
    default_site = "housing_safety.admin_site.AdminSite"


def _is_id(field, value) -> bool:
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


class CheckedAutocompleteMixin:
    """An autocomplete shows the chosen records by looking them up by the values as sent (a form sent back with
    errors, or an add form's ?household=… initial value); a value that is no id (text, NUL) was a server error in
    that lookup. Such a value shows as no choice (the form's validation already says it is not one)."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        target = remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)
        return super().optgroups(name, [v for v in value if _is_id(target, v)], attr)


class AutocompleteSelect(CheckedAutocompleteMixin, widgets.AutocompleteSelect):
    pass


class AutocompleteSelectMultiple(CheckedAutocompleteMixin, widgets.AutocompleteSelectMultiple):
    pass


def _admin_url_if_allowed(self, remote_field, remote_obj):
    """A read-only relation links to the related record's admin page only for a reader who may open it there (its
    model admin's permission and rows): Django links it whatever the reader may open, a link that answers 403 or 404.
    The reader is the request the change form was rendered for (UntrustedInputMixin.render_change_form)."""
    request = getattr(self.form, "_admin_request", None)
    if request is not None:
        related = self.model_admin.admin_site._registry.get(remote_field.model) if self.model_admin else None
        allowed = (
            related is not None
            and related.has_view_or_change_permission(request, remote_obj)
            and related.get_queryset(request).filter(pk=remote_obj.pk).exists()
        )
        if not allowed:
            return str(remote_obj)
    return _django_admin_url(self, remote_field, remote_obj)


_django_admin_url = helpers.AdminReadonlyField.get_admin_url
helpers.AdminReadonlyField.get_admin_url = _admin_url_if_allowed


class DateHierarchyChangeList:
    """A list's date hierarchy (`?attempt_time__year=…`) turns its year, month and day into a range of datetimes;
    Django refuses a day that does not exist but not a year Python cannot hold (25 digits: OverflowError) nor the
    range past year 9999 (ValueError, outside its guard). Both are answered like Django's own refusal of a bad
    filter: the list without it and "?e=1"."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as error:
            if not self.date_hierarchy:
                raise
            raise IncorrectLookupParameters(error) from error


@functools.cache
def _with_date_hierarchy_guard(changelist_class):
    return type(changelist_class.__name__, (DateHierarchyChangeList, changelist_class), {})


class UntrustedInputMixin:
    """What every ModelAdmin on the site does with input Django's admin takes as it comes:

    - a list's action names its rows by their ids (the `_selected_action` boxes); Django filters by them as they
      come, and a value that is no id of the model (text, NUL) was a server error inside that filter. Such a
      request is answered like one with no row ticked: Django's own warning, nothing done;
    - autocompletes show a value that is no id as no choice (CheckedAutocompleteMixin);
    - a read-only relation links to the related record only for a reader who may open it (_admin_url_if_allowed);
    - a date hierarchy's year beyond the calendar refuses the filter, not the page (DateHierarchyChangeList).
    """

    def get_changelist(self, request, **kwargs):
        return _with_date_hierarchy_guard(super().get_changelist(request, **kwargs))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def render_change_form(self, request, context, *args, **kwargs):
        # The reader of the form's read-only relations (_admin_url_if_allowed), the inlines' rows included.
        forms = [context["adminform"].form] if "adminform" in context else []
        for inline in context.get("inline_admin_formsets", ()):
            forms += inline.formset.forms
        for form in forms:
            form._admin_request = request
        return super().render_change_form(request, context, *args, **kwargs)

    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        if not all(_is_id(pk, value) for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            self.message_user(
                request,
                # Django's own message (and its translation): the same as for a request without any row ticked.
                _("Items must be selected in order to perform actions on them. No items have been changed."),
                messages.WARNING,
            )
            return None
        return super().response_action(request, queryset)


class AdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        """The one login page: a person who did not ask for a page lands on their home (工作台), not the admin's
        index, whatever their role."""
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            extra_context = {**(extra_context or {}), REDIRECT_FIELD_NAME: resolve_url(settings.LOGIN_REDIRECT_URL)}
        return super().login(request, extra_context)

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, UntrustedInputMixin):
            # The registered class, with the rules first in its method order (its name and module kept for the
            # admin's checks and messages).
            admin_class = type(
                admin_class.__name__,
                (UntrustedInputMixin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)
