"""What the renovation cases and complaints tell subscribed systems (housing_safety.webhooks): ids, numbers, codes,
steps and dates; never a name, an ID number, a phone number or a complaint's text."""

from __future__ import annotations

import datetime

from django.utils import timezone

from households.models import Township

from .models import Complaint, RenovationCase


def _township_code(township_id: int | None) -> str | None:
    if township_id is None:
        return None
    return Township.objects.values_list("code", flat=True).get(pk=township_id)


def case_moved(case: RenovationCase, from_status: str, to: str, on: datetime.date | None) -> dict:
    """case.moved: a renovation case went from one step to the next (rectification.services.renovation.move_case)."""
    return {
        "case_id": case.pk,
        "case_number": case.number,
        "household_id": case.household_id,
        "dwelling_id": case.dwelling_id,
        "township_code": _township_code(case.township_id),
        "programme_year": case.programme_year,
        "renovation_type": case.renovation_type,
        "from": from_status,
        "to": to,
        "on": on,
    }


def complaint_moved(complaint: Complaint, from_status: str, to: str) -> dict:
    """complaint.moved: a complaint changed status (rectification.services.complaints.move_complaint)."""
    return {
        "complaint_id": complaint.pk,
        "ticket": complaint.ticket,
        "external_ticket": complaint.external_ticket,  # the sending platform's own number (the 12345 ticket)
        "channel": complaint.channel,
        "category": complaint.category,
        "township_code": _township_code(complaint.township_id),
        "household_id": complaint.household_id,
        "from": from_status,
        "to": to,
        "at": timezone.now(),
        "replied_on": complaint.replied_on,
    }
