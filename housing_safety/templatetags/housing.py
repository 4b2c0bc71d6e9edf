from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def row_count(paginator) -> str:
    """A paginator's count, or "more than 2,000" when it stopped counting (housing_safety.pagination)."""
    if getattr(paginator, "capped", False):
        return _("more than %(count)s") % {"count": f"{paginator.count:,}"}
    return f"{paginator.count}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if mapping else ""


@register.filter
def status_label(status: str) -> str:
    from inspections.selectors import HousingStatus

    return HousingStatus(status).label if status in HousingStatus.values else ""
