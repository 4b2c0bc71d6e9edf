from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = _("Appraisals and revisits")

    def ready(self):
        from households.demo import DEMO_STEPS
        from households.selectors import register_attachable

        from .models import Appraisal, HelperReport, Placard, Revisit
        from .selectors import appraisals_for_user, helper_reports_for_user, placards_for_user, revisits_for_user

        register_attachable(Appraisal, appraisals_for_user)
        register_attachable(Placard, placards_for_user)
        register_attachable(Revisit, revisits_for_user)
        register_attachable(HelperReport, helper_reports_for_user)

        from households.services import register_township_follower

        from .services import follow_township

        register_township_follower(follow_township)  # a revisit's stored township follows its household's moves

        from households.api import register_housing_status

        from .selectors import status_filter, with_housing_status

        register_housing_status(annotate=with_housing_status, status_filter=status_filter)  # 保障安全 in the API
        from . import (
            api,  # noqa: F401  (registers appraisals' and revisits' API resources, for the keys' scopes)
            api_writes,  # noqa: F401  (the API's writes: helpers' reports' resource, for the keys' scopes)
        )
        from .demo import seed_appraisals

        if seed_appraisals not in DEMO_STEPS:
            DEMO_STEPS.append(seed_appraisals)
        from .base_village_demo import seed_base_villages

        if seed_base_villages not in DEMO_STEPS:
            DEMO_STEPS.append(seed_base_villages)

        from housing_safety import printing

        from .documents import PRINT_KIND, PRINT_REGISTRATION

        printing.register(PRINT_KIND, **PRINT_REGISTRATION)

        from housing_safety.workspace import register_links, register_search, register_todos

        from . import workspace

        register_links(*workspace.LINKS, position=10)
        register_todos(workspace.todos, position=10)
        register_search(workspace.search, position=10)
