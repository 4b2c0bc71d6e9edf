from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if mapping else ""


@register.filter
def status_label(status: str) -> str:
    from inspections.selectors import HousingStatus

    return HousingStatus(status).label if status in HousingStatus.values else ""
