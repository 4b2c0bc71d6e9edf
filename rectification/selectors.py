from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from households.selectors import townships_for_user
from housing_safety.access import scope_of

from .models import Problem


def problems_for_user(user) -> QuerySet[Problem]:
    """The bureau sees every township's problems; township staff their own townships'; other roles none."""
    scope = scope_of(user)
    if not user.has_perm("rectification.view_problem"):
        return Problem.objects.none()
    problems = Problem.objects.select_related("township", "household__village", "dwelling")
    return problems if scope.everything else problems.filter(township_id__in=scope.township_ids)


def problem_counts_by_township(user, today: datetime.date | None = None) -> list[dict]:
    """Open, overdue and closed problems per township in one GROUP BY."""
    today = today or timezone.localdate()
    still_open = Q(status__in=Problem.OPEN_STATUSES)
    rows = (
        problems_for_user(user)
        .values("township_id")
        .annotate(
            open=Count("pk", filter=still_open),
            overdue=Count("pk", filter=still_open & Q(deadline__lt=today)),
            resolved=Count("pk", filter=Q(status=Problem.Status.RESOLVED)),
            verified=Count("pk", filter=Q(status=Problem.Status.VERIFIED)),
        )
        .order_by()
    )
    by_township = {row["township_id"]: row for row in rows}
    empty = {"open": 0, "overdue": 0, "resolved": 0, "verified": 0}
    return [{"township": t, **by_township.get(t.pk, empty)} for t in townships_for_user(user)]
