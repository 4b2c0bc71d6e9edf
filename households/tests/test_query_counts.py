"""Pinned query counts of the registry's pages: department lists, reconciliation and its workbook, the rows to fix,
an attachment's download, every registry admin changelist and the admin's Excel exports.

Each page is measured with a few rows and again with more rows than one page holds: the count is pinned exactly and
is the same for both, so a query per row (an N+1) fails the test. Rows are made in bulk so the file stays fast; the
builders and helpers here are shared by the other apps' query-count tests.
(households/tests/test_department_list_pages.py pins a department list's preview page.)
"""

from __future__ import annotations

import datetime
import io
import itertools

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import reverse
from import_export.forms import SelectableFieldsExportForm

from households import services
from households.models import (
    Attachment,
    ColumnMapping,
    DepartmentList,
    Dwelling,
    Household,
    HouseholdCategory,
    ListRow,
    Township,
    Unit,
    UserProfile,
    Village,
)
from households.resources import DwellingResource, HouseholdResource, VillageResource
from housing_safety.access import Role
from inspections.models import Appraisal

from .factories import VillageFactory, png_bytes, png_file, valid_id_number

pytestmark = pytest.mark.django_db

ADMIN = Role.BUREAU_ADMIN
OFFICIAL = Role.BUREAU_OFFICIAL
STAFF = Role.TOWNSHIP_STAFF
LIAISON = Role.DEPARTMENT_LIAISON
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_serial = itertools.count(1)


# Bulk builders (shared with the other apps' query-count tests) ------------------------------------------------


def refresh_stored_summaries() -> None:
    """Rows made in bulk skip the services; where this version stores a summary of other rows (a dwelling's current
    grade, a household's home state), recompute it as the nightly check does."""
    from inspections import services

    refresh = getattr(services, "refresh_current_grades", None)
    if refresh is not None:
        refresh()


def bulk_households(
    village, n: int, *, categories=("registered_poor", "five_olds"), dwellings: int = 1, **fields
) -> list[Household]:
    """n households of the village, each in the given categories and living in `dwellings` dwellings."""
    serials = [next(_serial) for _ in range(n)]
    made = Household.objects.bulk_create(
        [
            Household(
                village=village,
                head_name=f"批量户{k}",
                id_number=valid_id_number(datetime.date(1940, 1, 1) + datetime.timedelta(days=k)),
                phone=f"138{k:08d}",
                helper_name="帮扶人",
                helper_phone=f"137{k:08d}",
                members_count=3,
                **fields,
            )
            for k in serials
        ]
    )
    through = Household.categories.through
    codes = list(HouseholdCategory.objects.filter(code__in=categories))
    through.objects.bulk_create([through(household_id=h.pk, householdcategory_id=c.pk) for h in made for c in codes])
    Dwelling.objects.bulk_create(
        [
            Dwelling(
                household=h,
                address=f"{i + 1}组{h.pk}号",
                structure_type=Dwelling.StructureType.EARTH_TIMBER,
                storeys=1,
                year_built=1985,
            )
            for h in made
            for i in range(dwellings)
        ]
    )
    return made


def dwellings_of(households) -> list[Dwelling]:
    return list(Dwelling.objects.filter(household__in=[h.pk for h in households]).order_by("pk"))


def bulk_appraisals(dwellings, grade: str = "B", *, appraised_on=datetime.date(2025, 6, 1), recorded_by=None):
    """One appraisal per dwelling (C/D ones recommend rebuilding), then the stored summaries."""
    dangerous = grade in ("C", "D")
    made = Appraisal.objects.bulk_create(
        [
            Appraisal(
                dwelling=dwelling,
                kind=Appraisal.Kind.ASSESSMENT,
                appraised_on=appraised_on,
                organisation="漳平市住建局鉴定组",
                appraisers="张工、李工",
                foundation="b",
                load_bearing_walls="d" if dangerous else "b",
                timber_frame="b",
                roof_truss="b",
                concrete_frame="n",
                floor_roof_slab="b",
                grade=grade,
                recommendation=Appraisal.Recommendation.REBUILD if dangerous else Appraisal.Recommendation.NONE,
                recorded_by=recorded_by,
            )
            for dwelling in dwellings
        ]
    )
    refresh_stored_summaries()
    return made


def measured(client, url, expected: int, django_assert_num_queries, *, post=None, warm=True):
    """The page's response, asserting it took exactly `expected` queries (after a warm-up request)."""

    def fetch():
        response = client.post(url, post) if post is not None else client.get(url)
        response.body = b"".join(response.streaming_content) if response.streaming else response.content
        return response

    if warm:
        fetch()  # per-process caches (content types, translations) and the session are warm
    with django_assert_num_queries(expected):
        response = fetch()
    assert response.status_code == 200, response.status_code
    return response


def changelist_rows(response) -> tuple[int, int]:
    """(rows shown, rows matched) of an admin changelist."""
    cl = response.context["cl"]
    return len(cl.result_list), cl.result_count


# Fixtures ------------------------------------------------------------------------------------------------------


@pytest.fixture
def users(personas):
    return personas


@pytest.fixture
def villages(xinqiao, shuangyang):
    return {"home": VillageFactory(township=xinqiao, name="东坑村"), "other": VillageFactory(township=shuangyang)}


def grow_households(villages, n: int, *, poverty_office, helper):
    """n households in the staff's township (from the department, some with the helper) and n // 5 elsewhere."""
    made = bulk_households(villages["home"], n, source=poverty_office, helper_user=helper)
    made += bulk_households(villages["other"], n // 5, source=poverty_office)
    return made


# 1. Admin changelists ------------------------------------------------------------------------------------------


def _more_villages(world, n):
    Village.objects.bulk_create(
        [Village(township=world["xinqiao"], name=f"新村{next(_serial)}") for _ in range(n)]
        + [Village(township=world["shuangyang"], name=f"外村{next(_serial)}") for _ in range(n // 5)]
    )


def _more_townships(world, n):
    Township.objects.bulk_create(
        [Township(code=f"3599{next(_serial):05d}", name=f"测试镇{next(_serial)}") for _ in range(n)]
    )


def _more_units(world, n):
    Unit.objects.bulk_create(
        [
            Unit(name=f"测试部门{next(_serial)}", kind=Unit.Kind.DEPARTMENT, phone="13800000000", contact_name="联系人")
            for _ in range(n)
        ]
    )


def _more_users(world, n):
    made = User.objects.bulk_create(
        [User(username=f"user-{next(_serial)}", is_staff=True, password="!") for _ in range(n)]
    )
    UserProfile.objects.bulk_create(
        [
            UserProfile(user=user, role=Role.TOWNSHIP_STAFF if k % 2 else Role.BUREAU_OFFICIAL)
            for k, user in enumerate(made)
        ]
    )


def _more_mappings(world, n):
    units = Unit.objects.bulk_create(
        [Unit(name=f"映射部门{next(_serial)}", kind=Unit.Kind.DEPARTMENT) for _ in range(n)]
    )
    ColumnMapping.objects.bulk_create([ColumnMapping(unit=unit, columns={"户主姓名": "head_name"}) for unit in units])


def _more_lists(world, n):
    bulk_lists(world["poverty_office"], world["admin"], n)


def bulk_lists(unit, uploaded_by, n: int, *, status=DepartmentList.Status.PREVIEWED, listed_on=None):
    return DepartmentList.objects.bulk_create(
        [
            DepartmentList(
                unit=unit,
                listed_on=listed_on or datetime.date(2026, 1, 1) + datetime.timedelta(days=k % 300),
                file=f"lists/2026/list-{k}.xlsx",
                original_name=f"名单{k}.xlsx",
                sha256=f"{k:064d}",
                status=status,
                counts={"rows": 10},
                uploaded_by=uploaded_by,
            )
            for k in (next(_serial) for _ in range(n))
        ]
    )


def _more_households(world, n):
    grow_households(world["villages"], n, poverty_office=world["poverty_office"], helper=world["helper"])


# app/model: (builder, rows a page, pinned queries per persona). Every request: session, user, the user's and the
# group's permissions, the profile and its townships (the scope) where the admin asks for them; the rest is the
# changelist's own (the count, the page, the filters' choices).
CHANGELISTS = {
    "households/household": (_more_households, 50, {ADMIN: 12, STAFF: 13, OFFICIAL: 12, LIAISON: 12}),
    "households/dwelling": (_more_households, 50, {ADMIN: 9, STAFF: 10, OFFICIAL: 9}),
    "households/village": (_more_villages, 100, {ADMIN: 9, STAFF: 9}),
    "households/township": (_more_townships, 100, {ADMIN: 8, STAFF: 8}),
    "households/unit": (_more_units, 100, {ADMIN: 8, STAFF: 8, OFFICIAL: 8}),
    "auth/user": (_more_users, 100, {ADMIN: 7}),
    "households/columnmapping": (_more_mappings, 100, {ADMIN: 7}),
    "households/departmentlist": (_more_lists, 100, {ADMIN: 9, OFFICIAL: 9, LIAISON: 9}),
}


@pytest.fixture
def world(users, villages, xinqiao, shuangyang, poverty_office):
    return {
        "villages": villages,
        "xinqiao": xinqiao,
        "shuangyang": shuangyang,
        "poverty_office": poverty_office,
        "admin": users[ADMIN],
        "helper": users[Role.HELPER],
    }


@pytest.mark.parametrize(
    ("model", "persona"), [(model, persona) for model, (_b, _n, pins) in CHANGELISTS.items() for persona in pins]
)
def test_registry_changelist_queries_do_not_grow(client, users, world, django_assert_num_queries, model, persona):
    grow, per_page, pins = CHANGELISTS[model]
    url = f"/admin/{model}/"
    grow(world, 3)
    client.force_login(users[persona])
    few = changelist_rows(measured(client, url, pins[persona], django_assert_num_queries))
    grow(world, per_page + 5)
    shown, matched = changelist_rows(measured(client, url, pins[persona], django_assert_num_queries, warm=False))
    if persona == STAFF and model == "households/township":
        assert few == (shown, matched) == (1, 1)  # their own township only
    else:
        assert few[0] < per_page  # a part of a page, then a full page of more rows than a page holds
        assert shown == per_page < matched


# 2. The admin's Excel exports (django-import-export) -------------------------------------------------------------


def export_form(model, resource_class) -> dict[str, str]:
    """The export form as submitted: xlsx, the only resource, every field ticked."""
    from django.contrib import admin

    titles = [fmt().get_title() for fmt in admin.site._registry[model].get_export_formats()]
    data = {"format": str(titles.index("xlsx")), "resource": "0"}
    for field in resource_class().get_export_order():
        data[SelectableFieldsExportForm.create_boolean_field_name(resource_class, field)] = "on"
    return data


def exported_rows(response) -> int:
    assert response["Content-Type"] == XLSX
    return len(list(openpyxl.load_workbook(io.BytesIO(response.body), read_only=True).active.iter_rows())) - 1


EXPORTS = {
    # Roles that export full numbers write one PersonalDataAccess row (housing_safety.disclosure.log_export).
    "household": (Household, HouseholdResource, {ADMIN: 13, STAFF: 14, OFFICIAL: 12}),
    "dwelling": (Dwelling, DwellingResource, {ADMIN: 9, STAFF: 10, OFFICIAL: 8}),
    "village": (Village, VillageResource, {ADMIN: 8, STAFF: 8}),
}


@pytest.mark.parametrize(
    ("model", "persona"),
    [(model, persona) for model, (_m, _r, pins) in EXPORTS.items() for persona in pins],
)
def test_registry_admin_export_queries_do_not_grow(client, users, world, django_assert_num_queries, model, persona):
    model_class, resource, pins = EXPORTS[model]
    form = export_form(model_class, resource)
    url = f"/admin/households/{model}/export/"
    grow = _more_villages if model == "village" else _more_households
    grow(world, 3)
    client.force_login(users[persona])
    few = exported_rows(measured(client, url, pins[persona], django_assert_num_queries, post=form))
    grow(world, 60)  # still within one chunk of the export's iterator (IMPORT_EXPORT_CHUNK_SIZE, 100 rows)
    many = exported_rows(measured(client, url, pins[persona], django_assert_num_queries, post=form, warm=False))
    assert many > 50 > few


# 3. Department lists: the index, the rows to fix, reconciliation -------------------------------------------------


LIST_INDEX_QUERIES = {ADMIN: 10, OFFICIAL: 8, LIAISON: 11}


@pytest.mark.parametrize("persona", list(LIST_INDEX_QUERIES))
def test_list_index_queries_do_not_grow(client, users, poverty_office, django_assert_num_queries, persona):
    """20 lists a page; the liaison sees their own department's, the bureau every department's."""
    other = Unit.objects.filter(kind=Unit.Kind.DEPARTMENT).exclude(pk=poverty_office.pk).first()
    bulk_lists(poverty_office, users[ADMIN], 2)
    bulk_lists(other, users[ADMIN], 1)
    client.force_login(users[persona])
    few = measured(client, "/lists/", LIST_INDEX_QUERIES[persona], django_assert_num_queries)
    bulk_lists(poverty_office, users[ADMIN], 25)
    bulk_lists(other, users[ADMIN], 25)
    response = measured(client, "/lists/", LIST_INDEX_QUERIES[persona], django_assert_num_queries, warm=False)
    assert len(few.context["page"]) < 20
    assert len(response.context["page"]) == 20 < response.context["page"].paginator.count


def bulk_list_rows(department_list, households, *, invalid: int = 0, start: int = 1) -> None:
    """A row per household (unchanged, changed, new in turn), then `invalid` unreadable rows."""
    outcomes = [ListRow.Outcome.UNCHANGED, ListRow.Outcome.CHANGED, ListRow.Outcome.NEW]
    rows = []
    for index, household in enumerate(households):
        outcome = outcomes[index % 3]
        rows.append(
            ListRow(
                department_list=department_list,
                row_number=start + index,
                outcome=outcome,
                household=household if outcome != ListRow.Outcome.NEW else None,
                head_name=household.head_name,
                id_number=household.id_number if outcome != ListRow.Outcome.NEW else valid_id_number(),
                village=household.village,
                changes={"phone": ["13800000000", "13900000000"]} if outcome == ListRow.Outcome.CHANGED else {},
                raw=[household.head_name, household.id_number],
            )
        )
    for index in range(invalid):
        rows.append(
            ListRow(
                department_list=department_list,
                row_number=start + len(households) + index,
                outcome=ListRow.Outcome.INVALID,
                head_name=f"无效{index}",
                id_number="35088119600101",
                errors=[["身份证号", "位数不对"]],
                raw=[f"无效{index}", "35088119600101", "13912345678"],
            )
        )
    ListRow.objects.bulk_create(rows)


@pytest.fixture
def department_lists(users, villages, poverty_office):
    """Two departments with a latest list each (one confirmed), rows in both townships, some households only ours."""
    civil = Unit.objects.filter(kind=Unit.Kind.DEPARTMENT).exclude(pk=poverty_office.pk).first()
    lists = {}
    for unit, status in ((poverty_office, DepartmentList.Status.PREVIEWED), (civil, DepartmentList.Status.CONFIRMED)):
        [older] = bulk_lists(unit, users[ADMIN], 1, listed_on=datetime.date(2025, 1, 1))
        [latest] = bulk_lists(unit, users[ADMIN], 1, status=status, listed_on=datetime.date(2026, 3, 1))
        ours = bulk_households(villages["home"], 40, source=unit) + bulk_households(villages["other"], 15, source=unit)
        bulk_list_rows(older, ours[:10])
        bulk_list_rows(latest, ours[:45], invalid=5)
        latest.counts = {
            "rows": 50,
            "header": ["姓名", "身份证号", "电话"],
            "columns": {"1": "id_number", "2": "phone"},
        }
        latest.save(update_fields=["counts"])
        lists[unit.pk] = latest
    return lists


def grow_lists(department_lists, villages) -> None:
    """More rows on each latest list (and more households only ours), and a second file of the same list."""
    for department_list in department_lists.values():
        unit = department_list.unit
        added = bulk_households(villages["home"], 60, source=unit) + bulk_households(villages["other"], 20, source=unit)
        bulk_list_rows(department_list, added[:70], invalid=20, start=1000)
        [second] = bulk_lists(unit, department_list.uploaded_by, 1, listed_on=department_list.listed_on)
        bulk_list_rows(second, added[70:], invalid=3)


# Per department with a list: its rows and its households only on our list (two queries each, by design: the
# departments are a short fixed list, and each one's figures are cached per set of uploads).
# The page clears the cache before measuring, so the shell's unread-notice badge is counted there too (+1: on other
# pages it comes from the cache, housing_safety.notices.unread_count).
RECONCILIATION_QUERIES = {
    ("households:reconciliation", ADMIN): 13,
    ("households:reconciliation", OFFICIAL): 13,
    ("households:reconciliation", LIAISON): 11,
    ("households:reconciliation-export", ADMIN): 12,
    ("households:reconciliation-export", LIAISON): 10,
}


@pytest.mark.parametrize(("name", "persona"), list(RECONCILIATION_QUERIES))
def test_reconciliation_queries_do_not_grow_with_rows(
    client, users, villages, department_lists, django_assert_num_queries, name, persona
):
    url = reverse(name)
    client.force_login(users[persona])
    expected = RECONCILIATION_QUERIES[(name, persona)]

    def fetch():
        cache.clear()  # the figures are cached per set of uploads: measure the page that computes them
        client.get(url)
        cache.clear()
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert response.status_code == 200
        return response

    fetch()
    grow_lists(department_lists, villages)
    response = fetch()
    if name == "households:reconciliation":
        report = response.context["report"]
        assert len(report) == (1 if persona == LIAISON else 2)
        keys = ("consistent", "different", "only_theirs", "invalid", "only_ours")
        assert all(sum(department["total"][key] for key in keys) > 100 for department in report)
    else:
        assert response["Content-Type"] == XLSX


INVALID_ROWS_QUERIES = {ADMIN: 8, OFFICIAL: 8, LIAISON: 8}


@pytest.mark.parametrize("persona", list(INVALID_ROWS_QUERIES))
def test_rows_to_fix_workbook_queries_do_not_grow(
    client, users, villages, department_lists, poverty_office, django_assert_num_queries, persona
):
    department_list = department_lists[poverty_office.pk]
    url = f"/lists/{department_list.pk}/invalid.xlsx"
    client.force_login(users[persona])
    few = exported_rows(measured(client, url, INVALID_ROWS_QUERIES[persona], django_assert_num_queries))
    bulk_list_rows(department_list, [], invalid=80, start=5000)
    many = exported_rows(measured(client, url, INVALID_ROWS_QUERIES[persona], django_assert_num_queries, warm=False))
    assert (few, many) == (5, 85)


# 4. An attachment's download ----------------------------------------------------------------------------------

ATTACHMENT_QUERIES = {ADMIN: 7, STAFF: 7}


@pytest.mark.parametrize("persona", list(ATTACHMENT_QUERIES))
def test_attachment_download_query_count_does_not_grow(client, users, villages, django_assert_num_queries, persona):
    """The scope check over every kind of record files are attached to is one query, however many files exist."""
    [household] = bulk_households(villages["home"], 1)
    attachment = services.add_attachment(
        actor=users[ADMIN], record=household, uploaded_file=png_file(), kind=Attachment.Kind.PHOTO
    )
    url = f"/attachments/{attachment.pk}/"
    client.force_login(users[persona])
    assert measured(client, url, ATTACHMENT_QUERIES[persona], django_assert_num_queries).body == png_bytes()
    others = bulk_households(villages["home"], 60) + bulk_households(villages["other"], 60)
    Attachment.objects.bulk_create(
        [
            Attachment(content_type=attachment.content_type, object_id=h.pk, file=attachment.file.name, size=1)
            for h in others
        ]
    )
    response = measured(client, url, ATTACHMENT_QUERIES[persona], django_assert_num_queries, warm=False)
    assert response.body == png_bytes()
