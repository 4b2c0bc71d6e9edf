from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldworkConfig(AppConfig):
    name = "fieldwork"
    verbose_name = _("Offline field app")

    def ready(self):
        from housing_safety.workspace import register_links, register_todos

        from . import workspace

        register_links(*workspace.LINKS, position=10)
        register_todos(workspace.todos, position=11)  # after the housing-safety card's counts
