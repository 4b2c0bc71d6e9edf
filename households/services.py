"""Writes to the registry. Admin, views, importers, commands and tests all go through these functions,
so the scope rule, validation and the history's "who" cannot be skipped by any path."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.apps import apps
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from housing_safety import webhooks
from housing_safety.access import Role, ensure_can_write_in_township, require_perm
from housing_safety.bulk import touching

from .models import (
    DANGEROUS_GRADES,
    SAFE_GRADES,
    Attachment,
    ChangeProposal,
    Dwelling,
    Household,
    HouseholdCategory,
    HousingStatus,
    UserProfile,
    Village,
)
from .selectors import ATTACHABLE, proposals_for_user
from .uploads import scrub_image, validate_attachment_file


def _stored_township_id(model, pk, path: str) -> int | None:
    return model.objects.filter(pk=pk).values_list(path, flat=True).first()


# Other apps' records that store the township of a dwelling (a revisit's, for its township's list) say here how they
# follow a move: follower(dwellings, township_id) sets it, set-based, on those of `dwellings` not yet in `township_id`.
# Registered in their AppConfig.ready, so the registry imports no app built on it; called inside the moving service's
# transaction, only when a township actually changes (household's village, dwelling's household, village's township).
TOWNSHIP_FOLLOWERS: list[Callable[[models.QuerySet[Dwelling], int], object]] = []


def register_township_follower(follower: Callable[[models.QuerySet[Dwelling], int], object]) -> None:
    if follower not in TOWNSHIP_FOLLOWERS:
        TOWNSHIP_FOLLOWERS.append(follower)


def _follow_township(dwellings: models.QuerySet[Dwelling], township_id: int) -> None:
    for follower in TOWNSHIP_FOLLOWERS:
        follower(dwellings, township_id)


@transaction.atomic
def save_household(
    *, actor: AbstractBaseUser, household: Household, categories: Iterable[HouseholdCategory] | None = None
) -> Household:
    """Create or change a household.

    The actor needs the add/change permission and may write only inside their own township(s): both the
    township the household is in now and the one it is moved to. The record must pass full validation
    (ID number format and check digit, phone, dates, removal reason). History records the actor.
    """
    require_perm(actor, "households.change_household" if household.pk else "households.add_household")
    stored_township_id = None
    if household.pk:
        stored_township_id = _stored_township_id(Household, household.pk, "village__township_id")
        ensure_can_write_in_township(actor, stored_township_id)
    household.full_clean()
    ensure_can_write_in_township(actor, household.village.township_id)
    household._history_user = actor
    household.save()
    if stored_township_id is not None and stored_township_id != household.village.township_id:
        _follow_township(Dwelling.objects.filter(household=household), household.village.township_id)
    if categories is not None:
        household.categories.set(categories)
    return household


@transaction.atomic
def remove_household(
    *, actor: AbstractBaseUser, household: Household, reason: str, removed_on: datetime.date | None = None
) -> Household:
    """Take a household off the covered list. Nothing is deleted: the removal is a state with date and reason."""
    if not reason or not reason.strip():
        raise ValidationError({"removal_reason": _("Enter the reason for removal.")})
    household.status = Household.Status.REMOVED
    household.removal_reason = reason.strip()
    household.removed_on = removed_on or timezone.localdate()
    return save_household(actor=actor, household=household)


@transaction.atomic
def restore_household(*, actor: AbstractBaseUser, household: Household) -> Household:
    household.status = Household.Status.ACTIVE
    household.removal_reason = ""
    household.removed_on = None
    return save_household(actor=actor, household=household)


@transaction.atomic
def decide_change_proposal(
    *, actor: AbstractBaseUser, proposal: ChangeProposal, accept: bool, reason: str = ""
) -> ChangeProposal:
    """The township holding the household (the bureau for a move between townships) accepts a department list's
    proposal, whose values are then written through `save_household` with history naming the proposal and the
    list, or rejects it with a reason. A proposal is decided once; one outside the actor's reach is not found."""
    require_perm(actor, "households.change_household")
    if not proposals_for_user(actor).filter(pk=proposal.pk).exists():
        raise ChangeProposal.DoesNotExist
    proposal = ChangeProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ChangeProposal.Status.PENDING:
        raise ValidationError(_("This proposal has already been decided."))
    reason = " ".join((reason or "").split())
    if not accept and not reason:
        raise ValidationError({"reason": _("Say why the proposal is rejected.")})
    if accept:
        household = Household.objects.select_for_update().get(pk=proposal.household_id)
        for name, (_ours, theirs) in proposal.changes.items():
            if name == "status":
                household.status, household.removed_on, household.removal_reason = Household.Status.ACTIVE, None, ""
            elif name in ("village", "source"):
                setattr(household, f"{name}_id", theirs)
            else:
                setattr(household, name, theirs)
        household._change_reason = f"变更建议 #{proposal.pk}（部门名单 #{proposal.department_list_id}）"
        save_household(actor=actor, household=household)
    proposal.status = ChangeProposal.Status.ACCEPTED if accept else ChangeProposal.Status.REJECTED
    proposal.decided_by, proposal.decided_at, proposal.decision_reason = actor, timezone.now(), reason[:200]
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    return proposal


def refresh_home_state(*, household_ids: Iterable[int] | None = None) -> int:
    """Recompute the stored state of the homes households live in (all households when `household_ids` is None).

    From the dwellings' stored current grades: dangerous if a home is C/D; not yet appraised if it lives in no
    dwelling or in one never appraised; renovated safe if all homes are A/B and one was renovated; else appraised
    safe. Plus the plan's three flags; "已有安全住房却仍住在老旧危房" is a C/D home while the household owns an A/B
    house, whether that one is marked as lived in or not (a revisit that finds the family back in the old house
    marks the old one, and the new one may still be marked too). One UPDATE statement; returns the number of
    households written. A household whose state changes is told to the systems subscribed to
    household.status_changed (housing_safety.webhooks): one query more when none is, two more when one is.
    """
    homes = Dwelling.objects.filter(household=OuterRef("pk"), is_occupied=True)
    dangerous = Exists(homes.filter(current_grade__in=DANGEROUS_GRADES))
    households = Household.objects.all() if household_ids is None else Household.objects.filter(pk__in=household_ids)
    home_status = Case(
        When(dangerous, then=Value(HousingStatus.DANGEROUS)),
        When(~Exists(homes), then=Value(HousingStatus.UNAPPRAISED)),
        When(Exists(homes.filter(current_grade__isnull=True)), then=Value(HousingStatus.UNAPPRAISED)),
        When(Exists(homes.filter(renovated_on__isnull=False)), then=Value(HousingStatus.RENOVATED_SAFE)),
        default=Value(HousingStatus.APPRAISED_SAFE),
        output_field=models.CharField(),
    )
    changes = _status_changes(households, home_status) if household_ids is not None else []  # for the webhook
    state = {
        "home_status": home_status,
        "flag_owns_safe_but_lives_in_danger": models.ExpressionWrapper(
            dangerous & Exists(Dwelling.objects.filter(household=OuterRef("pk"), current_grade__in=SAFE_GRADES)),
            output_field=models.BooleanField(),
        ),
        "flag_connected_uncooperative": Exists(homes.filter(is_connected=True, neighbour_cooperates=False)),
        "flag_leaking": Exists(homes.filter(current_leaking=True)),
    }
    # The households a service touched get a new updated_at when their state changes (an API sync follows it); the
    # full recomputation repairs without it (it changes nothing on a day without bugs).
    written = households.update(**(state if household_ids is None else touching(state)))
    webhooks.emit_many(STATUS_CHANGED, changes)
    return written


STATUS_CHANGED = "household.status_changed"


def _status_changes(households, home_status) -> list[dict]:
    """The households whose stored state `home_status` changes, as the webhook's payloads (ids, codes, states, the
    day: no personal data); nothing, and no query beyond one, when no system subscribes to the event. Every service
    refreshes the households it touched; the full recomputation (the nightly check, the bulk loaders) repairs the
    stored state and tells no one."""
    if not webhooks.subscribers(STATUS_CHANGED):
        return []
    today = timezone.localdate()
    rows = (
        households.annotate(new_status=home_status)
        .exclude(new_status=models.F("home_status"))
        .values_list("pk", "home_status", "new_status", "village__code", "village__township__code")
    )
    return [
        {"household_id": pk, "from": old, "to": new, "village_code": village, "township_code": township,
         "changed_on": today}
        for pk, old, new, village, township in rows
    ]  # fmt: skip


@transaction.atomic
def save_dwelling(*, actor: AbstractBaseUser, dwelling: Dwelling) -> Dwelling:
    """Create or change a dwelling, inside the actor's township(s) only (judged by its household)."""
    require_perm(actor, "households.change_dwelling" if dwelling.pk else "households.add_dwelling")
    stored_township_id = None
    if dwelling.pk:
        stored_township_id = _stored_township_id(Dwelling, dwelling.pk, "household__village__township_id")
        ensure_can_write_in_township(actor, stored_township_id)
    dwelling.full_clean()
    ensure_can_write_in_township(actor, dwelling.household.township_id)
    stored_household = Dwelling.objects.filter(pk=dwelling.pk).values_list("household_id", flat=True).first()
    dwelling._history_user = actor
    dwelling.save()
    if stored_township_id is not None and stored_township_id != dwelling.household.township_id:
        _follow_township(Dwelling.objects.filter(pk=dwelling.pk), dwelling.household.township_id)
    refresh_home_state(household_ids={dwelling.household_id, stored_household} - {None})
    return dwelling


@transaction.atomic
def create_households(
    *, actor: AbstractBaseUser, households: Iterable[tuple[Household, Iterable[HouseholdCategory], Iterable[Dwelling]]]
) -> list[Household]:
    """Create new households with their categories and dwellings in a few statements, whatever their number (the demo
    data; a department's list has its own SQL path).

    The rules of `save_household` and `save_dwelling`: the add permissions, every household in the actor's
    township(s), every field and row rule (`clean`) checked before anything is written; references and uniqueness
    are the database's to refuse, in the same statements. History as those services write it: a creation row naming
    the actor per household (with its categories) and per dwelling. The stored home state is computed once.
    """
    require_perm(actor, "households.add_household")
    require_perm(actor, "households.add_dwelling")
    rows = [(household, list(categories), list(dwellings)) for household, categories, dwellings in households]
    for township_id in {household.village.township_id for household, _categories, _dwellings in rows}:
        ensure_can_write_in_township(actor, township_id)
    for household, _categories, dwellings in rows:
        # Without the per-row queries of the reference, unique and constraint checks: the INSERTs below enforce those.
        household.full_clean(
            exclude=["village", "source", "helper_user"], validate_unique=False, validate_constraints=False
        )
        for dwelling in dwellings:
            dwelling.household = household
            dwelling.full_clean(exclude=["household"], validate_unique=False, validate_constraints=False)
    created = [household for household, _categories, _dwellings in rows]
    now = timezone.now()
    Household.objects.bulk_create(created)
    history = Household.history.bulk_history_create(created, default_user=actor, default_date=now)
    Through = Household.categories.through
    links = Through.objects.bulk_create(
        [
            Through(household=household, householdcategory=category)
            for household, categories, _ in rows
            for category in categories
        ]
    )
    history_of = {row.id: row.history_id for row in history}
    HistoricalCategories = apps.get_model(
        "households", "HistoricalHousehold_categories"
    )  # simple-history's m2m history
    HistoricalCategories.objects.bulk_create(
        HistoricalCategories(
            id=link.id,
            household_id=link.household_id,
            householdcategory_id=link.householdcategory_id,
            history_id=history_of[link.household_id],
        )
        for link in links
    )
    dwellings = [dwelling for _household, _categories, dwellings in rows for dwelling in dwellings]
    for dwelling in dwellings:
        dwelling.household_id = dwelling.household.pk
    Dwelling.objects.bulk_create(dwellings)
    Dwelling.history.bulk_history_create(dwellings, default_user=actor, default_date=now)
    refresh_home_state(household_ids=[household.pk for household in created])
    return created


@transaction.atomic
def save_village(*, actor: AbstractBaseUser, village: Village) -> Village:
    """Create or change a village (the bureau's reference data). A village moved to another township takes its
    households' dwellings' stored townships with it (TOWNSHIP_FOLLOWERS)."""
    require_perm(actor, "households.change_village" if village.pk else "households.add_village")
    village.full_clean()
    ensure_can_write_in_township(actor, village.township_id)
    stored_township_id = village.pk and _stored_township_id(Village, village.pk, "township_id")
    village._history_user = actor
    village.save()
    if stored_township_id is not None and stored_township_id != village.township_id:
        _follow_township(Dwelling.objects.filter(household__village=village), village.township_id)
    return village


@transaction.atomic
def add_attachment(
    *, actor: AbstractBaseUser, record, uploaded_file, kind: str, caption: str = "", taken_on=None
) -> Attachment:
    """Attach a file to a record the actor may see and change; the type is judged by content, not name."""
    require_perm(actor, "households.add_attachment")
    selector = ATTACHABLE.get(type(record))
    if selector is None or not selector(actor).filter(pk=record.pk).exists():
        raise PermissionDenied(_("You may only attach files to records in your scope."))
    mime_type = validate_attachment_file(uploaded_file)
    original_name = getattr(uploaded_file, "name", "")[:200]
    # A form that checked the file (uploads.check_attachment_file) has re-encoded it already.
    scrubbed = getattr(uploaded_file, "scrubbed", None)
    stored, mime_type, photo_day = scrubbed or scrub_image(uploaded_file, mime_type)
    attachment = Attachment(
        record=record,
        kind=kind,
        file=stored,
        original_name=original_name,
        mime_type=mime_type,
        size=stored.size,
        caption=caption,
        taken_on=taken_on or photo_day,
        uploaded_by=actor,
    )
    attachment.full_clean(exclude=["file"])
    attachment._history_user = actor
    attachment.save()
    return attachment


def check_profile(*, role: str, townships: Iterable, unit) -> None:
    """A township staff member needs at least one township; a department liaison needs a unit."""
    errors = {}
    if role == Role.TOWNSHIP_STAFF and not list(townships):
        errors["townships"] = _("Township staff need at least one township.")
    if role == Role.DEPARTMENT_LIAISON and unit is None:
        errors["unit"] = _("A department liaison needs a unit.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def sync_user_role(*, user: AbstractBaseUser) -> None:
    """Make the user's role groups match the profile's role: exactly one role group, other groups kept."""
    role = UserProfile.objects.filter(user=user).values_list("role", flat=True).first()
    role_groups = Group.objects.filter(name__in=Role.values)
    user.groups.remove(*role_groups.exclude(name=role))
    if role:
        user.groups.add(Group.objects.get(name=role))
    for cache in ("_perm_cache", "_group_perm_cache", "_user_perm_cache", "_housing_scope"):
        user.__dict__.pop(cache, None)


def require_password_change(*, user: AbstractBaseUser) -> None:
    """The user must choose a new password at the next request (demo accounts, new accounts, administrator resets)."""
    UserProfile.objects.filter(user=user).update(must_change_password=True)


def password_changed(*, user: AbstractBaseUser) -> None:
    """The user chose their own password: the forced change is done."""
    UserProfile.objects.filter(user=user, must_change_password=True).update(must_change_password=False)


@transaction.atomic
def set_user_role(*, user: AbstractBaseUser, role: str, townships: Iterable = (), unit=None) -> UserProfile:
    """Give a user a role and scope (used by seed_demo and tests; admin edits the same profile)."""
    townships = list(townships)
    check_profile(role=role, townships=townships, unit=unit)
    profile, _created = UserProfile.objects.update_or_create(user=user, defaults={"role": role, "unit": unit})
    profile.townships.set(townships)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    sync_user_role(user=user)
    return profile


# The province's revolutionary base villages (省定革命基点村) ------------------------------------------------------


@transaction.atomic
def set_base_villages(
    *, actor: AbstractBaseUser, village_ids: Iterable[int], year: int, batch: str = "", reason: str = ""
) -> dict[str, int]:
    """Make the listed villages the base villages: those not yet marked are marked with the year and batch they are
    named in, those marked and no longer listed are unmarked (their year and batch cleared); a village listed again
    keeps the year it was first named (one marked by hand without a year takes this list's). Bureau-wide (the
    bureau administrator's or official's list), a few statements and one history row per village that changed, so
    loading the same list twice changes nothing the second time."""
    require_perm(actor, "inspections.add_basevillagelist")
    village_ids = set(village_ids)
    marked = list(
        Village.objects.filter(pk__in=village_ids).filter(
            Q(is_revolutionary_base_village=False) | Q(base_village_year__isnull=True)
        )
    )
    unmarked = list(Village.objects.filter(is_revolutionary_base_village=True).exclude(pk__in=village_ids))
    newly = sum(1 for village in marked if not village.is_revolutionary_base_village)
    for village in marked:
        village.is_revolutionary_base_village, village.base_village_year = True, year
        village.base_village_batch = batch[:100]
    for village in unmarked:
        village.is_revolutionary_base_village, village.base_village_year, village.base_village_batch = False, None, ""
    changed = marked + unmarked
    fields = ["is_revolutionary_base_village", "base_village_year", "base_village_batch"]
    Village.objects.bulk_update(changed, fields)
    Village.history.bulk_history_create(changed, default_user=actor, default_change_reason=reason[:100])
    return {"marked": newly, "unmarked": len(unmarked)}


@transaction.atomic
def register_surveyed_household(
    *, actor: AbstractBaseUser, household: Household, registered_on: datetime.date, reason: str
) -> Household:
    """建档立卡 of a household surveyed in a base village (Household.Status.UNREGISTERED): it goes on the covered list
    registered on `registered_on` (its one-month appraisal clock and first-half renovation deadline start then), with
    the category 革命基点村群众; its history names `reason` (the finding)."""
    if household.status != Household.Status.UNREGISTERED:
        raise ValidationError(_("Only a household not yet registered can be registered by the base-village survey."))
    ensure_can_write_in_township(actor, household.township_id)
    household.status, household.registered_on = Household.Status.ACTIVE, registered_on
    household._history_user, household._change_reason = actor, reason[:100]
    household.save(update_fields=["status", "registered_on", "updated_at"])
    household.categories.add(HouseholdCategory.objects.get(code=HouseholdCategory.Code.BASE_VILLAGE))
    return household
