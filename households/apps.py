from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = _("Household registry")

    def ready(self):
        from housing_safety.access import PERSONAL_DATA_PERMISSION, register_profile_scope
        from housing_safety.disclosure import register_unmaskable

        from .models import Household, UserProfile
        from .selectors import households_for_user

        register_profile_scope(UserProfile.scope_of_user)

        from . import api  # noqa: F401  (registers the registry's API resources, for the keys' scopes)

        register_unmaskable(Household, permission=PERSONAL_DATA_PERMISSION, selector=households_for_user)

        from housing_safety.workspace import register_links, register_panel, register_todos

        from . import (
            signals,  # noqa: F401
            workspace,
        )

        register_links(*workspace.LINKS, position=40)
        register_todos(workspace.todos, position=40)
        register_panel("households.household", workspace.household_history_panel, position=90)
        register_todos(workspace.system_todos, position=90)
