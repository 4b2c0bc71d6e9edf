"""The report pages' filters; `figure` is the project's (housing_safety/templatetags/housing.py), also here so that
these pages load one library."""

from django import template

from housing_safety.templatetags.housing import figure

register = template.Library()
register.filter(figure)


@register.filter
def column_value(figures: dict, column) -> str:
    return figure(figures.get(column.key), column.kind)


@register.filter
def get_count(counts: dict, key: str):
    return counts.get(key, 0)
