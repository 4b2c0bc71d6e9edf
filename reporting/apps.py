from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self):
        from households.demo import DEMO_STEPS

        from . import api  # noqa: F401  (registers unit reports' and the figures' API resources, for the keys' scopes)
        from .demo import seed_plan_followups, seed_reports

        for step in (seed_reports, seed_plan_followups):
            if step not in DEMO_STEPS:
                DEMO_STEPS.append(step)

        from housing_safety.workspace import register_figures, register_links, register_todos

        from . import rollup, workspace

        register_figures(rollup.totals)  # the homes' province-wide counts, from the dashboard's maintained figures

        register_links(*workspace.LINKS, position=30)
        register_todos(workspace.todos, position=30)
        register_todos(workspace.guidance_todos, position=5)  # 包片: an official's townships come first
