"""The error summary of a refused form (templates/_form_errors.html): each error once, the form's own errors first,
then each field's, linked to the field."""

from django import template

register = template.Library()


@register.filter
def error_items(form) -> list[dict]:
    """[{"href": "#id_…" or "", "label": …, "message": …}] of a bound form's errors; a list is passed through (a page
    whose form is written by hand builds its own)."""
    if form is None or isinstance(form, list | tuple):
        return list(form or [])
    if not getattr(form, "is_bound", False) or not form.errors:
        return []
    items = [{"href": "", "label": "", "message": message} for message in form.non_field_errors()]
    for field in form:
        for message in field.errors:
            href = "" if field.is_hidden else f"#{field.auto_id}"
            items.append({"href": href, "label": "" if field.is_hidden else field.label, "message": message})
    return items


@register.simple_tag(takes_context=True)
def error_summary_items(context) -> list[dict]:
    """The summary's items: the page's own `error_summary` list if it has one, else those of its `form`."""
    return error_items(context.get("error_summary") or context.get("form"))
