from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class HousingSafetyConfig(AppConfig):
    name = "housing_safety"
    verbose_name = _("Housing safety")

    def ready(self):
        from django.urls import register_converter

        from . import lookups  # noqa: F401  (registers field__any_of)
        from .api import schema  # noqa: F401  (the API key's scheme in the OpenAPI document)
        from .params import IdConverter, YearConverter

        register_converter(IdConverter, "id")  # <id:pk> in every URLconf, before any is loaded
        register_converter(YearConverter, "year")  # <year:year>
        from django.contrib.auth import get_user_model

        from .people import person_name

        get_user_model().__str__ = person_name  # a person's name, not their login, in pickers and histories
        from .access import sync_role_groups

        # Permissions exist only after post_migrate has created them, so the role groups are
        # brought in line with ROLE_PERMISSIONS there, after every migrate (idempotent).
        post_migrate.connect(sync_role_groups, dispatch_uid="housing_safety.sync_role_groups")

        # The holiday table: cached years forgotten on change; next year's missing holidays on the admin's home.
        # The admins of the holiday table and of the webhooks.
        from . import holiday_admin, holidays, webhook_admin, webhooks  # noqa: F401
        from .workspace import register_todos

        holidays.connect_signals()
        register_todos(holidays.todos, position=91)
        register_todos(webhooks.todos, position=93)  # deliveries the receivers did not take
