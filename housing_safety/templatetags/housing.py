from django import template
from django.template.base import VariableDoesNotExist
from django.template.defaulttags import TemplateIfParser
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()

# The one colour map of the status pills: a record's status (its stored value) to one of the three colours of
# app.css's `.status-*` classes, which are named after the housing statuses that first had them. A status left out
# is on its way (amber); a late one is red. The safe housing statuses keep their own classes (all three green).
SAFE, DANGER, PENDING = "status-appraised_safe", "status-dangerous", "status-unappraised"
STATUS_COLOURS = {
    "housing": {
        "appraised_safe": SAFE,
        "renovated_safe": "status-renovated_safe",
        "secured": "status-secured",
        "dangerous": DANGER,
        "unappraised": PENDING,
    },
    "case": {"accepted": SAFE, "paid": SAFE, "archived": SAFE, "rejected": DANGER, "withdrawn": DANGER},
    "problem": {"resolved": SAFE, "verified": SAFE},
    "complaint": {"closed": SAFE},
    "revisit": {"done": SAFE},
    "helper_report": {"handled": SAFE, "unhandled": DANGER},
    "placard": {"current": SAFE, "superseded": DANGER},
    "deadline": {"late": DANGER},  # a pill that only says a record is overdue or stalled
}


def status_colour(kind: str, status: str, late: bool = False) -> str:
    """The pill's colour class: the status's own, or red for an unfinished one past its deadline."""
    colour = STATUS_COLOURS[kind].get(status, PENDING)
    return DANGER if late and colour == PENDING else colour


@register.tag
def status_badge(parser, token):
    """A status pill coloured by STATUS_COLOURS, its text between the tags; `late` and a condition as {% if %}
    takes it make an unfinished one red:

        {% status_badge "problem" problem.status late problem.deadline < today %}{{ problem.get_status_display }}
        {% endstatus_badge %}
    """
    bits = token.split_contents()
    if len(bits) < 3 or len(bits) == 4 or (len(bits) > 4 and bits[3] != "late"):
        raise template.TemplateSyntaxError(f'{bits[0]} takes "kind" status [late <condition>]')
    kind = bits[1][1:-1] if bits[1][:1] == bits[1][-1:] and bits[1][:1] in "\"'" else ""
    if kind not in STATUS_COLOURS:
        raise template.TemplateSyntaxError(f"{bits[0]}: the kind is one of {', '.join(map(repr, STATUS_COLOURS))}")
    late = TemplateIfParser(parser, bits[4:]).parse() if len(bits) > 4 else None
    nodelist = parser.parse(("endstatus_badge",))
    parser.delete_first_token()
    return StatusBadgeNode(kind, parser.compile_filter(bits[2]), late, nodelist)


class StatusBadgeNode(template.Node):
    def __init__(self, kind, status, late, nodelist):
        self.kind, self.status, self.late, self.nodelist = kind, status, late, nodelist

    def render(self, context):
        try:
            late = bool(self.late and self.late.eval(context))
        except VariableDoesNotExist:  # as {% if %}: a missing variable is false
            late = False
        colour = status_colour(self.kind, str(self.status.resolve(context)), late)
        return format_html('<span class="status {}">{}</span>', colour, self.nodelist.render(context))


@register.filter
def row_count(paginator) -> str:
    """A paginator's count, or "more than 2,000" when it stopped counting (housing_safety.pagination)."""
    if getattr(paginator, "capped", False):
        return _("more than %(count)s") % {"count": f"{paginator.count:,}"}
    return f"{paginator.count}"


@register.filter
def figure(value, kind: str = "count") -> str:
    """A figure as people read it: counts with separators, yuan with two decimals, shares in percent."""
    if value is None or value == "":
        return "–"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "money":
        return number_format(value, 2, force_grouping=True)
    return number_format(value, 0, force_grouping=True)


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if mapping else ""
