"""The province's list of revolutionary base villages (省定革命基点村) and the one-off survey of their houses.

The plan (二（四）): "对31个省定革命基点村群众的住房情况组织一次排查认定，对经认定属危旧房的进行建档立卡，
准确界定革命基点村危房改造对象". The bureau loads the province's Excel (village names and codes): each row is
checked (preview) and refused with its reason in Chinese; confirming a list without refusals marks the listed
villages, unmarks those no longer listed, and makes (once) and widens the survey campaign 基点村排查 over every house
in them, of covered households and of households not yet registered. A house the survey finds C/D registers its
household (services.register_base_village_household)."""

from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from households.models import Village
from households.services import set_base_villages
from households.sheets import SheetError, read_rows
from housing_safety.access import require_perm

from . import services
from .models import BaseVillageList, Campaign

IMPORT = "inspections.add_basevillagelist"
VIEW = "inspections.view_basevillagelist"
SCHEDULE_KEY = "base-villages"  # the one-off survey: one campaign, whatever the number of lists loaded
SURVEY_MONTHS = 3  # a new survey is due three months after the first list is confirmed (the campaign admin edits it)
HEADER_ROWS = 20  # the header may sit under a title: looked for in the first rows

CODE_HEADERS = {
    "村代码", "行政村代码", "村级代码", "村委会代码", "村居代码", "村（居）代码", "统计用区划代码", "区划代码",
    "行政区划代码", "统计代码", "代码", "村编码", "编码",
}  # fmt: skip
NAME_HEADERS = {
    "村名称", "村名", "行政村", "行政村名称", "基点村", "基点村名称", "村委会名称", "村居名称", "村（居）名称",
    "村（居）委会名称", "名称", "村庄名称",
}  # fmt: skip
TOWNSHIP_HEADERS = {"乡镇", "乡镇（街道）", "乡（镇、街道）", "所属乡镇", "乡镇名称", "乡镇街道", "乡（镇）"}
NAME_SUFFIXES = ("村民委员会", "村委会", "居民委员会", "居委会")


def _text(value) -> str:
    """A cell as a clerk reads it: full-width folded, spaces dropped (全角 digits and brackets, stray blanks)."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）")


def _code(value) -> str:
    """A village code as typed or as Excel stores a long number (350881100201.0)."""
    text = _text(value)
    return text[:-2] if re.fullmatch(r"\d{12}\.0", text) else text


def _name(value) -> str:
    """A village's name for comparison: 梅林村民委员会 and 梅林村 are the same village."""
    text = _text(value)
    for suffix in NAME_SUFFIXES:
        if text.endswith(suffix):
            return text.removesuffix(suffix) + ("村" if "村" in suffix else "")
    return text


def _same_name(listed: str, village: Village) -> bool:
    ours = _name(village.name)
    return listed in (ours, ours.removesuffix("村")) or listed + "村" == ours


def _header(cells: list) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        heading = _text(cell)
        for field, headings in (("code", CODE_HEADERS), ("name", NAME_HEADERS), ("township", TOWNSHIP_HEADERS)):
            if heading in headings and field not in found:
                found[field] = index
    return found if {"code", "name"} <= found.keys() else None


def _cell(cells: list, columns: dict[str, int], field: str):
    index = columns.get(field)
    return cells[index] if index is not None and index < len(cells) else ""


def read_list(handle, filename: str) -> tuple[list[dict], str]:
    """The rows of the province's list, each checked: (rows, "") or ([], why the whole file is refused).

    A row is refused with its reason (Excel's row number kept): no code, a code that is not 12 digits, a code no
    village of ours has, a name that is not the code's village, a township that is not the village's, the same code
    twice. The villages are read in one query."""
    rows: list[dict] = []
    columns = None
    try:
        for number, cells in read_rows(handle, filename):
            if columns is None:
                columns = _header(cells)
                if columns is None and number >= HEADER_ROWS:
                    break
                continue
            row = {
                "row": number,
                "code": _code(_cell(cells, columns, "code")),
                "name": _name(_cell(cells, columns, "name")),
                "township": _text(_cell(cells, columns, "township")),
                "village_id": None,
            }
            if row["code"] or row["name"]:
                rows.append(row)
    except SheetError as error:
        return [], str(error)
    if columns is None:
        return [], _(
            "The first worksheet has no heading row with the village code and the village name (looked for in its "
            "first %(rows)s rows, e.g. 村代码 and 村名称). Put the province's list of base villages on the first "
            "worksheet."
        ) % {"rows": HEADER_ROWS}
    if not rows:
        return [], _("The list has a heading row but no village under it.")
    villages = {
        village.code: village
        for village in Village.objects.filter(code__in={row["code"] for row in rows}).select_related("township")
    }
    first_row: dict[str, int] = {}
    for row in rows:
        row["error"] = _row_error(row, villages.get(row["code"]), first_row)
        village = villages.get(row["code"])
        if village is not None:
            row["village"] = f"{village.township.name} {village.name}"
            if not row["error"]:
                row["village_id"] = village.pk
        first_row.setdefault(row["code"], row["row"])
    return rows, ""


def _row_error(row: dict, village: Village | None, first_row: dict[str, int]) -> str:
    code, name = row["code"], row["name"]
    if not code:
        return _("The village code is empty.")
    if not re.fullmatch(r"\d{12}", code):
        return _("The village code “%(code)s” is not 12 digits.") % {"code": code}
    if code in first_row:
        return _("The village code %(code)s is listed twice: again after row %(row)s.") % {
            "code": code,
            "row": first_row[code],
        }
    if village is None:
        return _("No village of ours has the code %(code)s: check the code, or have the village entered first.") % {
            "code": code
        }
    if not name:
        return _("The village name is empty (the code %(code)s is %(village)s).") % {
            "code": code,
            "village": f"{village.township.name} {village.name}",
        }
    if not _same_name(name, village):
        return _("The name “%(name)s” does not match the code's village: %(code)s is %(village)s.") % {
            "name": name,
            "code": code,
            "village": f"{village.township.name} {village.name}",
        }
    township = row.get("township", "")
    if township and township not in (village.township.name, _text(village.township.name)):
        return _("The township “%(township)s” is not the village's: %(village)s is in %(ours)s.") % {
            "township": township,
            "village": village.name,
            "ours": village.township.name,
        }
    return ""


def _counts(rows: list[dict]) -> dict[str, int]:
    """Listed, refused, to be marked, already marked, to be unmarked: two queries over the villages."""
    listed = {row["village_id"] for row in rows if row["village_id"]}
    marked = set(Village.objects.filter(is_revolutionary_base_village=True).order_by().values_list("pk", flat=True))
    return {
        "rows": len(rows),
        "refused": sum(1 for row in rows if row["error"]),
        "to_mark": len(listed - marked),
        "kept": len(listed & marked),
        "to_unmark": len(marked - listed),
    }


def lists_for_user(user: AbstractBaseUser) -> QuerySet[BaseVillageList]:
    """Every loaded list for who may see them (the bureau-wide list of base villages), none for anyone else."""
    if not user.has_perm(VIEW):
        return BaseVillageList.objects.none()
    return BaseVillageList.objects.select_related("uploaded_by", "confirmed_by", "campaign")


@transaction.atomic
def preview_list(*, actor: AbstractBaseUser, year: int, batch: str, uploaded_file) -> BaseVillageList:
    """Read and check the province's list; nothing in the registry changes until it is confirmed. A file refused as
    a whole (unreadable, wrong sheet, empty) is kept with its reason, like one with refused rows, for the page to
    show why."""
    require_perm(actor, IMPORT)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    rows, error = read_list(uploaded_file, uploaded_file.name)
    uploaded_file.seek(0)
    base_list = BaseVillageList(
        year=year,
        batch=(batch or "").strip()[:100],
        file=uploaded_file,
        original_name=uploaded_file.name[:200],
        sha256=digest.hexdigest(),
        rows=rows,
        error=error,
        counts=_counts(rows),
        uploaded_by=actor,
    )
    base_list.full_clean(exclude=["file", "uploaded_by"])
    base_list.save()
    return base_list


@transaction.atomic
def confirm_list(*, actor: AbstractBaseUser, base_list: BaseVillageList, today: datetime.date | None = None) -> dict:
    """Apply a list without refusals: the listed villages are the base villages (households.services.set_base_
    villages: marked with the year and batch, unlisted ones unmarked); the one-off survey 基点村排查 (one campaign,
    schedule key `base-villages`) takes every listed village and every house in it not yet in the survey (one
    INSERT … SELECT). A village dropped keeps its revisits. Loading the same list again changes nothing."""
    require_perm(actor, IMPORT)
    today = today or timezone.localdate()
    base_list = BaseVillageList.objects.select_for_update().get(pk=base_list.pk)
    if base_list.status == BaseVillageList.Status.CONFIRMED:
        raise ValidationError(_("This list has already been confirmed."))
    if base_list.refused:
        raise ValidationError(
            _("The list has refused rows: correct them in the workbook and upload it again. Nothing was changed.")
        )
    village_ids = [row["village_id"] for row in base_list.rows]
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Province's list of base villages #%(pk)s (%(year)s)") % {"pk": base_list.pk, "year": base_list.year}
        name = _("Revolutionary base village survey (基点村排查)")
    changed = set_base_villages(
        actor=actor, village_ids=village_ids, year=base_list.year, batch=base_list.batch, reason=reason
    )
    campaign = Campaign.objects.select_for_update().filter(schedule_key=SCHEDULE_KEY).first()
    if campaign is None:
        campaign = Campaign(
            schedule_key=SCHEDULE_KEY,
            name=name,
            kind=Campaign.Kind.BASE_VILLAGE,
            starts_on=today,
            due_on=today + relativedelta(months=SURVEY_MONTHS),
            base_villages_only=True,
            occupied_only=False,
            launched_at=timezone.now(),
            launched_by=actor,
        )
        campaign._history_user = actor
        campaign.save()
    present = set(campaign.villages.values_list("pk", flat=True))
    if set(village_ids) - present:
        campaign.villages.add(*(set(village_ids) - present))
    created = services.launch_campaign(actor=None, campaign=campaign)
    base_list.status, base_list.confirmed_by, base_list.confirmed_at = (
        BaseVillageList.Status.CONFIRMED,
        actor,
        timezone.now(),
    )
    base_list.campaign = campaign
    base_list.counts = {**base_list.counts, **changed, "revisits": created}
    base_list.save(update_fields=["status", "confirmed_by", "confirmed_at", "campaign", "counts"])
    return {**changed, "revisits": created, "campaign": campaign}
