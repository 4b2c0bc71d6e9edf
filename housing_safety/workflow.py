"""The workflow kit: each workflow (problems, renovation cases, complaints) keeps its own table of moves, and this
module answers what all of them ask of it: the permission a move needs, the moves a user may make from a record's
status, and the refusal of a move that is not in the table or not permitted.

A service performs a move after `check` (and its own rules: dates, documents, reasons) and records it in a model
derived from housing_safety.models.Transition; a page offers exactly the moves `allowed` names, and the other
actions whose service's `check_*` function `permits` it, so a page never restates a service's rules (zulip's
check_*/do_* split; wagtail's actions).

    PROBLEM_MOVES = Workflow({(S.OPEN, S.RESOLVED): "rectification.change_problem"}, statuses=S, refusal=...)
    PROBLEM_MOVES.check(actor, problem, to)      # the permission, or ValidationError / PermissionDenied
    PROBLEM_MOVES.allowed(problem, user)         # [to, ...] for the page's forms
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from .access import require_perm

Move = tuple[str, str]  # (from status, to status)
Guard = Callable[[AbstractBaseUser, Any, str], bool]  # (user, record, permission) -> may this user make it


class Workflow(Mapping[Move, str]):
    """A table of moves, (from, to) -> the permission the actor needs, read like the dict it is made from.

    `refusal` is the workflow's message for a move not in the table, with %(from)s and %(to)s (the statuses'
    labels); a lazy translation, so it is said in the language of the request. `guard`, when given, is one more
    condition on the user (e.g. only the assigned handler makes the handler's moves), refused with
    `guard_refusal`. The record is anything with a `status`."""

    def __init__(
        self,
        moves: Mapping[Move, str],
        *,
        statuses: type[models.TextChoices],
        refusal: str,
        guard: Guard | None = None,
        guard_refusal: str = "",
    ) -> None:
        self._moves = dict(moves)
        self.statuses, self.refusal = statuses, refusal
        self.guard, self.guard_refusal = guard, guard_refusal

    def __getitem__(self, move: Move) -> str:
        return self._moves[move]

    def __iter__(self) -> Iterator[Move]:
        return iter(self._moves)

    def __len__(self) -> int:
        return len(self._moves)

    def label(self, status: str) -> str:
        """The status's label, or the value itself when it is no status of this workflow (a tampered form)."""
        return self.statuses(status).label if status in self.statuses.values else status

    def permission(self, record, to: str) -> str:
        """The permission the move from the record's status to `to` needs; a ValidationError with the workflow's
        refusal when the table has no such move (e.g. a second click after someone else's move)."""
        permission = self._moves.get((record.status, to))
        if permission is None:
            raise ValidationError(self.refusal % {"from": self.label(record.status), "to": self.label(to)})
        return permission

    def check(self, actor: AbstractBaseUser, record, to: str) -> str:
        """Refuse a move that is not in the table (ValidationError) or not the actor's to make (PermissionDenied:
        a 403); return its permission. The caller checks the record's township and its own rules."""
        permission = self.permission(record, to)
        require_perm(actor, permission)
        if self.guard is not None and not self.guard(actor, record, permission):
            raise PermissionDenied(self.guard_refusal)
        return permission

    def allowed(self, record, user: AbstractBaseUser) -> list[str]:
        """The moves from the record's status this user may make, in the table's order: the forms a page offers
        (the service still checks everything)."""
        return [
            to
            for (start, to), permission in self._moves.items()
            if start == record.status
            and user.has_perm(permission)
            and (self.guard is None or self.guard(user, record, permission))
        ]


def permits(check: Callable[..., object], *args, **kwargs) -> bool:
    """Whether a service's `check_*` function (which raises its refusal) lets this action through: a page shows an
    action's form exactly when the service would take it up."""
    try:
        check(*args, **kwargs)
    except (ValidationError, PermissionDenied):
        return False
    return True
