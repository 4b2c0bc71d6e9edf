from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def figure(value, kind: str = "count") -> str:
    """A report figure as people read it: counts with separators, yuan with two decimals, shares in percent."""
    if value is None or value == "":
        return "–"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "money":
        return number_format(value, 2, force_grouping=True)
    return number_format(value, 0, force_grouping=True)


@register.filter
def column_value(figures: dict, column) -> str:
    return figure(figures.get(column.key), column.kind)


@register.filter
def get_count(counts: dict, key: str):
    return counts.get(key, 0)
