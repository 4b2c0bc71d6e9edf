from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self):
        from households.demo import DEMO_STEPS

        from .demo import seed_reports

        if seed_reports not in DEMO_STEPS:
            DEMO_STEPS.append(seed_reports)

        from housing_safety.workspace import register_links, register_todos

        from . import workspace

        register_links(*workspace.LINKS, position=30)
        register_todos(workspace.todos, position=30)
