"""Reads shared by admin, views, exports and imports. Row access is decided here and only here."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from housing_safety.access import Role, can_view_personal_data, scope_of

from .identity import half_width, number_search
from .models import Attachment, ChangeProposal, Dwelling, Household, Township, Unit, UserProfile, Village

INLINE_TYPES = {"image/jpeg", "image/png", "image/webp", "application/pdf"}


def _township_filter(user: AbstractBaseUser, path: str) -> Q | None:
    """Q restricting `path` (a lookup ending at a township id) for township staff; None = unrestricted."""
    scope = scope_of(user)
    if scope.role == Role.TOWNSHIP_STAFF and not scope.everything:
        return Q(**{f"{path}__in": scope.township_ids})
    return None


def _reference(user: AbstractBaseUser, queryset: QuerySet, path: str) -> QuerySet:
    """Reference data (townships, villages, units): everyone signed in; township staff their own."""
    scope = scope_of(user)
    if scope.role is None and not scope.everything:
        return queryset.none()
    restriction = _township_filter(user, path)
    return queryset if restriction is None else queryset.filter(restriction)


def townships_for_user(user: AbstractBaseUser) -> QuerySet[Township]:
    return _reference(user, Township.objects.all(), "pk")


def villages_for_user(user: AbstractBaseUser) -> QuerySet[Village]:
    return _reference(user, Village.objects.select_related("township"), "township_id")


def units_for_user(user: AbstractBaseUser) -> QuerySet[Unit]:
    scope = scope_of(user)
    if scope.role is None and not scope.everything:
        return Unit.objects.none()
    return Unit.objects.select_related("township")


def household_scope_filter(user: AbstractBaseUser, prefix: str = "") -> Q:
    """The rows of Household (reached through `prefix`) that the user may see, as a Q object."""
    scope = scope_of(user)
    if scope.everything:
        return Q()
    if scope.role == Role.TOWNSHIP_STAFF:
        # By village ids read first (see housing_safety.lookups): a page of one township's households then reads
        # 50 rows of the (village, name) index instead of joining every household to its village.
        villages = Village.objects.filter(township_id__in=scope.township_ids).order_by().values("pk")
        return Q(**{f"{prefix}village_id__any_of": villages})
    if scope.role == Role.DEPARTMENT_LIAISON and scope.unit_id:
        return Q(**{f"{prefix}source_id": scope.unit_id})
    if scope.role == Role.HELPER:
        return Q(**{f"{prefix}helper_user_id": scope.helper_user_id})
    return Q(pk__in=[])


def households_for_user(user: AbstractBaseUser) -> QuerySet[Household]:
    return Household.objects.filter(household_scope_filter(user)).select_related("village__township")


def search_households(user: AbstractBaseUser, households: QuerySet[Household], term: str) -> QuerySet[Household]:
    """The one household search (the admin's search box and autocomplete, the field page). Every word must match
    the head's name or the village's; a number finds a household only whole (ID number, its phone or its helper's
    phone) or by its last four characters with the head's name (identity.number_search), and only for a role that
    may see personal data. A prefix or fragment of a number finds nothing, so a search cannot read a masked
    number back one digit at a time (issue 23)."""
    term = half_width(term or "").strip()
    if not term:
        return households
    number = number_search(term)
    if number is not None:
        if not can_view_personal_data(user):
            return households.none()
        if number.id_number:
            return households.filter(id_number=number.id_number)
        if number.phone:
            return households.filter(Q(phone=number.phone) | Q(helper_phone=number.phone))
        return households.filter(
            Q(id_number__endswith=number.last_four) | Q(phone__endswith=number.last_four),
            head_name__icontains=number.name,
        )
    for word in term.split():
        households = households.filter(Q(head_name__icontains=word) | Q(village__name__icontains=word))
    return households


def dwellings_for_user(user: AbstractBaseUser) -> QuerySet[Dwelling]:
    return Dwelling.objects.filter(household_scope_filter(user, "household__")).select_related(
        "household__village__township"
    )


# Other apps register the records they attach files to, with the selector that scopes them.
ATTACHABLE: dict[type[Model], Callable[[object], QuerySet]] = {
    Household: households_for_user,
    Dwelling: dwellings_for_user,
}


def register_attachable(model: type[Model], selector: Callable[[object], QuerySet]) -> None:
    ATTACHABLE[model] = selector


def attachments_for_user(user: AbstractBaseUser) -> QuerySet[Attachment]:
    visible = Q(pk__in=[])
    for model, selector in ATTACHABLE.items():
        content_type = ContentType.objects.get_for_model(model)
        visible |= Q(content_type=content_type, object_id__in=selector(user).values("pk"))
    return Attachment.objects.filter(visible).select_related("uploaded_by")


def proposals_for_user(user: AbstractBaseUser) -> QuerySet[ChangeProposal]:
    """Change proposals from departments' lists the user decides: township staff those of their townships' households,
    the bureau administrator every one (those of a move between townships are the bureau's alone)."""
    if not user.has_perm("households.change_household"):
        return ChangeProposal.objects.none()
    proposals = ChangeProposal.objects.select_related(
        "household__village__township", "household__source", "department_list__unit", "decided_by"
    )
    scope = scope_of(user)
    if scope.everything:
        return proposals
    if scope.role == Role.TOWNSHIP_STAFF:
        return proposals.filter(township_id__in=scope.township_ids)
    return proposals.none()


# Who is responsible for a unit: the people its notices reach (housing_safety.notices) ---------------------------

BUREAU_ROLES = (Role.BUREAU_ADMIN, Role.BUREAU_OFFICIAL)


def people_of_units(units: Iterable[Unit]) -> dict[int, list[AbstractBaseUser]]:
    """The active people of each unit, by unit id: a township unit's township staff, a department's liaisons (their
    profile names the unit), the bureau's administrators and officials. At most three queries for any number of
    units, so a job that tells many units reads them at once."""
    units = list(units)
    people: dict[int, list] = {unit.pk: [] for unit in units}
    townships = {unit.township_id: unit.pk for unit in units if unit.kind == Unit.Kind.TOWNSHIP and unit.township_id}
    departments = [unit.pk for unit in units if unit.kind == Unit.Kind.DEPARTMENT]
    bureau = [unit.pk for unit in units if unit.kind == Unit.Kind.BUREAU]
    if townships:
        links = UserProfile.townships.through.objects.filter(
            township_id__in=townships, userprofile__role=Role.TOWNSHIP_STAFF, userprofile__user__is_active=True
        ).select_related("userprofile__user")
        for link in links.order_by("userprofile__user_id"):
            people[townships[link.township_id]].append(link.userprofile.user)
    if departments:
        profiles = UserProfile.objects.filter(
            unit_id__in=departments, role=Role.DEPARTMENT_LIAISON, user__is_active=True
        ).select_related("user")
        for profile in profiles.order_by("user_id"):
            people[profile.unit_id].append(profile.user)
    if bureau:
        staff = bureau_people()
        for unit_id in bureau:
            people[unit_id] = list(staff)
    return people


def bureau_people() -> list[AbstractBaseUser]:
    """The bureau's active administrators and officials: who the bureau's own notices are for."""
    return list(get_user_model().objects.filter(is_active=True, profile__role__in=BUREAU_ROLES).order_by("pk"))


def people_of_unit(unit: Unit) -> list[AbstractBaseUser]:
    """The active people responsible for one unit (see people_of_units)."""
    return people_of_units([unit])[unit.pk]


def units_nobody_can_receive() -> QuerySet[Unit]:
    """Active units without an e-mail address and without an active person: a notice for them reaches nobody, so
    their overdue items stay unannounced until the bureau administrator gives them one (the home's to-do)."""
    active = UserProfile.objects.filter(user__is_active=True)
    staff = active.filter(role=Role.TOWNSHIP_STAFF, townships=OuterRef("township_id"))
    liaisons = active.filter(role=Role.DEPARTMENT_LIAISON, unit=OuterRef("pk"))
    bureau = active.filter(role__in=BUREAU_ROLES)
    unreachable = (
        Q(kind=Unit.Kind.TOWNSHIP, has_staff=False)
        | Q(kind=Unit.Kind.DEPARTMENT, has_liaisons=False)
        | Q(kind=Unit.Kind.BUREAU, has_bureau=False)
    )
    return (
        Unit.objects.filter(is_active=True, email="")
        .alias(has_staff=Exists(staff), has_liaisons=Exists(liaisons), has_bureau=Exists(bureau))
        .filter(unreachable)
    )


def narrowed_area(user: AbstractBaseUser, query) -> dict | None:
    """The area a list is narrowed to by ?township= and ?village= (the dashboard's drill-down), resolved within the
    user's scope: {"township": Township | None, "village": Village | None}, both None when the ids name nothing the
    user may see (an id of another township is never resolved to its name); None when the list is not narrowed.
    At most one query: the village brings its township along."""
    from housing_safety.params import int_param

    township_id, village_id = int_param(query, "township"), int_param(query, "village")
    if township_id is None and village_id is None:  # not narrowed (a value that is not an id is ignored)
        return None
    if village_id is not None:
        village = villages_for_user(user).filter(pk=village_id).first()
        if village is None or (township_id is not None and village.township_id != township_id):
            return {"township": None, "village": None}
        return {"township": village.township, "village": village}
    return {"township": townships_for_user(user).filter(pk=township_id).first(), "village": None}


def lead_report_recipient() -> Unit | None:
    """The unit the quarterly lead report goes to (the plan: "牵头单位按季度报市纪委监委"), active or not: None when
    no unit is marked as its recipient."""
    return Unit.objects.filter(receives_lead_report=True).first()


LEAD_REPORT_ADDRESS_CACHE = "lead-report-address-missing"


def lead_report_address_missing(*, cached: bool = False) -> bool:
    """No active recipient of the lead report with an e-mail address: the administrator's home and the health page
    say so, and the quarterly job records that it could not send. /healthz reads it `cached` (five minutes: the
    load balancer's check stays one query)."""
    if cached and (known := cache.get(LEAD_REPORT_ADDRESS_CACHE)) is not None:
        return known
    missing = not Unit.objects.filter(receives_lead_report=True, is_active=True).exclude(email="").exists()
    cache.set(LEAD_REPORT_ADDRESS_CACHE, missing, 300)
    return missing
