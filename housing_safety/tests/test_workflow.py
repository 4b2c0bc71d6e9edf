"""The workflow kit (housing_safety.workflow): the moves a user may make, and the refusals of a move that is not in
the table or not the user's. A made-up workflow, so that the kit is tested apart from the three that use it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy

from housing_safety.workflow import Workflow, permits


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    DONE = "done", "Done"


WRITE, CHECK, OWN = "app.write", "app.check", "app.own"


@dataclass
class Person:
    pk: int
    perms: set[str] = field(default_factory=set)

    def has_perm(self, permission: str) -> bool:
        return permission in self.perms


@dataclass
class Record:
    status: str
    owner_id: int | None = None


MOVES = Workflow(
    {
        (Status.DRAFT, Status.SENT): WRITE,
        (Status.SENT, Status.DONE): CHECK,
        (Status.SENT, Status.DRAFT): OWN,
    },
    statuses=Status,
    refusal="A record that is “%(from)s” cannot become “%(to)s”.",
    guard=lambda user, record, permission: permission != OWN or record.owner_id == user.pk,
    guard_refusal="Only the owner can do this.",
)
CLERK, CHECKER, OWNER = Person(1, {WRITE}), Person(2, {CHECK, OWN}), Person(3, {WRITE, OWN})


def test_allowed_moves_are_the_users_own_from_the_records_status():
    sent = Record(Status.SENT, owner_id=OWNER.pk)
    assert MOVES.allowed(Record(Status.DRAFT), CLERK) == [Status.SENT]
    assert MOVES.allowed(Record(Status.DRAFT), CHECKER) == []
    assert MOVES.allowed(sent, CLERK) == []
    assert MOVES.allowed(sent, CHECKER) == [Status.DONE]  # may send back, but is not the owner
    assert MOVES.allowed(sent, OWNER) == [Status.DRAFT]
    assert MOVES.allowed(Record(Status.DONE), OWNER) == []


def test_a_move_not_in_the_table_is_refused_with_the_workflows_message():
    for start, to in [(Status.DRAFT, Status.DONE), (Status.DONE, Status.SENT), (Status.SENT, "tampered")]:
        with pytest.raises(ValidationError) as refused:
            MOVES.check(CHECKER, Record(start), to)
        label = Status(to).label if to in Status.values else to
        assert refused.value.messages == [f"A record that is “{Status(start).label}” cannot become “{label}”."]


def test_a_move_without_its_permission_is_a_403():
    with translation.override("zh-hans"), pytest.raises(PermissionDenied) as refused:
        MOVES.check(CHECKER, Record(Status.DRAFT), Status.SENT)
    assert str(refused.value) == "您没有执行此操作的权限。"  # access.require_perm's one message
    with pytest.raises(PermissionDenied) as refused:  # the guard: CHECKER has the permission but is not the owner
        MOVES.check(CHECKER, Record(Status.SENT, owner_id=OWNER.pk), Status.DRAFT)
    assert str(refused.value) == "Only the owner can do this."


def test_a_permitted_move_returns_its_permission():
    assert MOVES.check(CLERK, Record(Status.DRAFT), Status.SENT) == WRITE
    assert MOVES.check(OWNER, Record(Status.SENT, owner_id=OWNER.pk), Status.DRAFT) == OWN


def test_the_table_reads_like_the_dict_it_was_made_from():
    assert MOVES == {
        (Status.DRAFT, Status.SENT): WRITE,
        (Status.SENT, Status.DONE): CHECK,
        (Status.SENT, Status.DRAFT): OWN,
    }
    assert len(MOVES) == 3 and (Status.DONE, Status.DRAFT) not in MOVES and MOVES[(Status.SENT, Status.DONE)] == CHECK


def test_the_refusal_is_said_in_the_requests_language():
    class Translated(models.TextChoices):  # labels and message the catalogue translates
        OPEN = "open", gettext_lazy("Open")
        VERIFIED = "verified", gettext_lazy("Verified")

    moves = Workflow(
        {(Translated.OPEN, Translated.VERIFIED): CHECK},
        statuses=Translated,
        refusal=gettext_lazy("A problem that is “%(from)s” cannot become “%(to)s”."),
    )
    for language, expected in [
        ("zh-hans", "状态为“已核实”的问题不能变更为“待整改”。"),
        ("en", "A problem that is “Verified” cannot become “Open”."),
    ]:
        with translation.override(language), pytest.raises(ValidationError) as refused:
            moves.check(CHECKER, Record(Translated.VERIFIED), Translated.OPEN)
        assert refused.value.messages == [expected]


def test_permits_says_whether_a_check_lets_an_action_through():
    def check_send(user, record):
        MOVES.check(user, record, Status.SENT)

    assert permits(check_send, CLERK, Record(Status.DRAFT))
    assert not permits(check_send, CHECKER, Record(Status.DRAFT))  # PermissionDenied
    assert not permits(check_send, CLERK, Record(Status.DONE))  # ValidationError
