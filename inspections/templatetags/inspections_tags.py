"""Template tags of the housing-safety pages: the housing status as people read it."""

from django import template

from households.models import HousingStatus

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    """A household's housing status by its label ("" for a value that is none)."""
    return HousingStatus(status).label if status in HousingStatus.values else ""
