"""The narrowing of a list to a township or a village (?township=, ?village=, the dashboard's drill-down links):

    {% load areas %}{% area_chip %}      above the list: 范围：新桥镇 › 某某村 ×, and the way back to the dashboard
    {% area_inputs %}                    inside the list's GET form: the narrowing as hidden inputs

The ids are resolved within the user's scope (households.selectors.narrowed_area): an id outside it shows no name.
"""

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from households.selectors import narrowed_area

register = template.Library()
AREA_PARAMS = ("township", "village")


def _area(context) -> dict | None:
    """Resolved once per rendering: the chip and the form's inputs share it."""
    request = context.get("request")
    if request is None:
        return None
    if not hasattr(request, "_narrowed_area"):
        request._narrowed_area = narrowed_area(request.user, request.GET)
    return request._narrowed_area


@register.inclusion_tag("_area_chip.html", takes_context=True)
def area_chip(context) -> dict:
    area = _area(context)
    if area is None:
        return {"area": None}
    request = context["request"]
    query = request.GET.copy()
    for name in (*AREA_PARAMS, "page"):
        query.pop(name, None)
    clear_url = f"{request.path}?{query.urlencode()}" if query else request.path
    dashboard_url = ""
    if area["township"] is not None and request.user.has_perm("reporting.view_dashboard"):
        level = f"village={area['village'].pk}" if area["village"] else f"township={area['township'].pk}"
        dashboard_url = f"{reverse('reporting:dashboard')}?{level}"
    return {"area": area, "clear_url": clear_url, "dashboard_url": dashboard_url}


@register.simple_tag(takes_context=True)
def area_inputs(context) -> str:
    """Hidden inputs keeping the narrowing in a filter form, so a search stays within the area; only ids the user
    may see (an area outside the scope is dropped, as the chip's × would)."""
    area = _area(context)
    if not area or area["township"] is None:
        return ""
    given = context["request"].GET
    pairs = [(name, area[name].pk) for name in AREA_PARAMS if area[name] is not None and given.get(name)]
    return format_html_join("", '<input type="hidden" name="{}" value="{}">', pairs) or format_html("")


@register.simple_tag(takes_context=True)
def dashboard_crumbs_for(context, household) -> dict | None:
    """The dashboard's breadcrumbs leading to a household (工作台 › 全市 › 新桥镇 › 东坑村 › 户主) when the user came
    from the dashboard (?from=dashboard, the dashboard's village page's links) and may see it; the township and the
    village are the household's own, never the URL's. None otherwise: the page keeps its usual crumbs."""
    from housing_safety.access import scope_of

    request = context.get("request")
    if request is None or request.GET.get("from") != "dashboard":
        return None
    if not request.user.has_perm("reporting.view_dashboard"):
        return None
    village = household.village
    return {"village": village, "township": village.township, "city": scope_of(request.user).everything}
