from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    name = "rectification"
    verbose_name = _("Renovation and complaints")

    def ready(self):
        from households.demo import DEMO_STEPS
        from households.selectors import register_attachable
        from housing_safety.disclosure import register_unmaskable
        from inspections.services import FINDING_HANDLERS

        from .models import Complaint, Problem, RenovationCase
        from .selectors import cases_for_user, complaints_for_user, problems_for_user
        from .services import open_problems_for_findings

        register_attachable(Problem, problems_for_user)
        register_attachable(RenovationCase, cases_for_user)
        register_attachable(Complaint, complaints_for_user)
        register_unmaskable(Complaint, permission="rectification.view_reporter", selector=complaints_for_user)
        from . import (
            api,  # noqa: F401  (registers the API's read resources, for the keys' scopes)
            api_writes,  # noqa: F401  (registers the API's write resources, for the keys' scopes)
        )

        if open_problems_for_findings not in FINDING_HANDLERS:
            FINDING_HANDLERS.append(open_problems_for_findings)

        from .demo import seed_complaints, seed_lead_returns, seed_renovation

        for step in (seed_renovation, seed_complaints, seed_lead_returns):
            if step not in DEMO_STEPS:
                DEMO_STEPS.append(step)

        from housing_safety.workspace import register_links, register_panel, register_search, register_todos

        from . import workspace

        register_links(*workspace.LINKS, position=20)
        register_todos(workspace.todos, position=20)
        register_search(workspace.search, position=20)
        register_panel("households.household", workspace.household_panel, position=20)

        from housing_safety.holidays import register_recompute

        from .services.holiday_deadlines import recompute_complaint_deadlines

        register_recompute(recompute_complaint_deadlines)

        from housing_safety import printing

        from .paper import FOLDERS_PRINT_KIND, FOLDERS_PRINT_REGISTRATION

        printing.register(FOLDERS_PRINT_KIND, **FOLDERS_PRINT_REGISTRATION)
