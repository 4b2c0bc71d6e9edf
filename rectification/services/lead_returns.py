"""A participating unit files its quarterly lead return (线索季报) for the bureau's report to the discipline
commission."""

from __future__ import annotations

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Unit
from housing_safety.access import require_perm, scope_of

from .. import lead_returns
from ..models.complaints import LEAD_RETURN_FIGURES, LEAD_RETURN_MAX, LeadQuarterReturn


def check_lead_return(*, actor: AbstractBaseUser, unit: Unit, year: int, quarter: int, today: datetime.date) -> None:
    """Whether `actor` may file `unit`'s return for the quarter today: a liaison of that (participating) unit, within
    the quarter's window, before the bureau's report has gone."""
    require_perm(actor, "rectification.add_leadquarterreturn")
    if scope_of(actor).unit_id != unit.pk:
        raise PermissionDenied(_("You may only file your own unit's lead return."))
    if unit.kind != Unit.Kind.DEPARTMENT or not unit.is_active:
        raise ValidationError(_("Only the participating departments file a quarterly lead return."))
    window = lead_returns.window(year, quarter)
    if today < window.opens_on:
        raise ValidationError(
            _("The lead return for %(year)s Q%(quarter)s can be filed from %(date)s.")
            % {"year": year, "quarter": quarter, "date": window.opens_on.isoformat()}
        )
    if today > window.report_on or lead_returns.report_sent(year, quarter):
        raise ValidationError(
            _("The bureau's report for %(year)s Q%(quarter)s has gone to the discipline commission: the return can no "
              "longer be changed. Tell the bureau's lead desk of any correction.")
            % {"year": year, "quarter": quarter}
        )  # fmt: skip


@transaction.atomic
def file_lead_return(
    *,
    actor: AbstractBaseUser,
    unit: Unit,
    year: int,
    quarter: int,
    figures: dict[str, int],
    situation: str = "",
    difference_reason: str = "",
    now: datetime.datetime | None = None,
) -> LeadQuarterReturn:
    """File (or, until the bureau's report goes out, correct) a unit's quarterly lead return. The figures start as the
    lead register's; where the unit reports others (it may know of leads not yet entered), it says why. Receipts and
    feedback cannot exceed the leads sent. The register's figures at filing are kept beside the unit's."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    check_lead_return(actor=actor, unit=unit, year=year, quarter=quarter, today=today)
    errors: dict[str, list[str]] = {}
    for name in LEAD_RETURN_FIGURES:
        value = figures.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= LEAD_RETURN_MAX:
            errors[name] = [_("Enter a whole number from 0 to %(max)s.") % {"max": LEAD_RETURN_MAX}]
    if errors:
        raise ValidationError(errors)
    sent = figures["sent_to_units"] + figures["sent_to_discipline"]
    if figures["receipts_confirmed"] > sent:
        errors["receipts_confirmed"] = [_("More receipts than leads sent (%(sent)s).") % {"sent": sent}]
    if figures["feedback"] > sent:
        errors["feedback"] = [_("More feedback than leads sent (%(sent)s).") % {"sent": sent}]
    register = lead_returns.register_figures_by_unit(year, quarter).get(unit.pk, dict.fromkeys(LEAD_RETURN_FIGURES, 0))
    differs = {name: figures[name] for name in LEAD_RETURN_FIGURES} != register
    if differs and not difference_reason.strip():
        errors["difference_reason"] = [
            _("The figures differ from the lead register: say why (for example leads not yet entered in the register).")
        ]
    if errors:
        raise ValidationError(errors)
    entry = LeadQuarterReturn.objects.select_for_update().filter(
        unit=unit, year=year, quarter=quarter
    ).first() or LeadQuarterReturn(unit=unit, year=year, quarter=quarter)
    for name in LEAD_RETURN_FIGURES:
        setattr(entry, name, figures[name])
    entry.situation = situation.strip()
    entry.difference_reason = difference_reason.strip() if differs else ""
    entry.register_counts = register
    entry.filed_by, entry.filed_at = actor, now
    entry.full_clean()
    entry._history_user = actor
    entry.save()
    return entry
