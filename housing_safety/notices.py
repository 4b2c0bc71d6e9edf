"""Notices that always reach someone (站内消息): every notice goes to the inbox of each person responsible, and by
e-mail too where an address exists.

The bottom layer knows no app: the apps decide who is responsible for an item (households.selectors.people_of_unit)
and pass the users here. A notice is as idempotent as the outbox: the same key reaches a person once, and queues one
e-mail under that key. The shell's unread badge reads a per-user count from the cache, so drawing it on every page
costs no query; writing and reading notices forget the count.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from .mail import queue_email
from .models import Notice

# Writes forget the count at once. A page drawn between a write and its commit may cache the old count again: the
# short lifetime bounds that (no on-commit hook, so a notice adds nothing to what a transaction runs after commit).
UNREAD_SECONDS = 120


def _unread_key(user_id: int) -> str:
    return f"notices:unread:{user_id}"


def _forget(user_ids: Iterable[int]) -> None:
    keys = [_unread_key(user_id) for user_id in user_ids]
    if keys:
        cache.delete_many(keys)


def absolute(url: str) -> str:
    """A path of this site as a link in an e-mail."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + url if url.startswith("/") else url


def post_notices(*, key: str, users: Iterable[AbstractBaseUser], title: str, body: str = "", url: str = "") -> int:
    """Put one notice under `key` in the inbox of each active user (a user who has it already gets none); the
    number of people it is for."""
    people = {user.pk: user for user in users if user is not None and user.is_active}
    Notice.objects.bulk_create(
        [Notice(recipient_id=pk, key=key, title=title[:200], body=body, url=url[:300]) for pk in people],
        ignore_conflicts=True,
    )
    _forget(people)
    return len(people)


def notify(
    *,
    key: str,
    users: Iterable[AbstractBaseUser],
    title: str,
    body: str = "",
    url: str = "",
    emails: Iterable[str] = (),
    email_body: str = "",
) -> int:
    """Tell the people responsible: a notice in each active user's inbox and ONE e-mail (the outbox, same key) to
    their own addresses plus `emails` (a unit's address), where any exist. The e-mail's subject is the title; its
    text `email_body`, or the notice's text with the link. How many people and further addresses it reached:
    0 means nobody, and the caller must not treat the item as announced."""
    people = [user for user in users if user is not None and user.is_active]
    reached = post_notices(key=key, users=people, title=title, body=body, url=url)
    own = {user.email for user in people if user.email}
    others = {address for address in emails if address} - own
    if own or others:
        text = email_body or "\n\n".join(part for part in (body, absolute(url) if url else "") if part)
        queue_email(key=key, to=own | others, subject=title, body=text)
    return reached + len(others)


# Reading the inbox ---------------------------------------------------------------------------------------------


def notices_for(user: AbstractBaseUser) -> QuerySet[Notice]:
    """The user's own notices, unread first, newest first: nobody reads another's."""
    unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return Notice.objects.filter(recipient=user).alias(unread=unread).order_by("-unread", "-created_at", "-pk")


def unread_count(user: AbstractBaseUser) -> int:
    """The badge's number, from the cache when a page drew it lately (no query), else counted once."""
    key = _unread_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notice.objects.filter(recipient=user, read_at__isnull=True).count()
        cache.set(key, count, UNREAD_SECONDS)
    return count


def mark_read(*, user: AbstractBaseUser, notice_id: int) -> Notice:
    """Open one of the user's notices; another user's is Notice.DoesNotExist (the page's 404)."""
    notice = Notice.objects.get(pk=notice_id, recipient=user)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
        _forget([user.pk])
    return notice


def mark_all_read(*, user: AbstractBaseUser) -> int:
    """Every unread notice of the user becomes read; how many."""
    marked = Notice.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
    _forget([user.pk])
    return marked
