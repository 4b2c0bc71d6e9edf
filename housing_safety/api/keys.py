"""Issuing, finding and revoking API keys (the services of housing_safety.models.ApiKey).

A key is `<prefix><secret>`: 48 URL-safe random characters, of which the first 8 are stored to find the row and
the whole key only as its SHA-256. Unknown, expired and revoked keys are the same 401 to the caller."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.utils import timezone

from ..models import ApiKey
from .resources import validate_scopes

PREFIX_LENGTH = 8
KEY_BYTES = 36  # 48 characters of token_urlsafe
TOUCH_EVERY = datetime.timedelta(minutes=1)  # last_used_at is written at most this often


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def issue_key(*, user, name: str, scopes: list[str], expires_at, created_by=None) -> tuple[ApiKey, str]:
    """A new key for `user` (a system account): the row, and the plain key, which is never stored nor shown again."""
    plain = secrets.token_urlsafe(KEY_BYTES)
    key = ApiKey(
        user=user,
        name=name,
        scopes=validate_scopes(scopes),
        expires_at=expires_at,
        created_by=created_by,
        prefix=plain[:PREFIX_LENGTH],
        key_hash=hash_key(plain),
    )
    key.full_clean()
    key.save()
    return key, plain


def set_secret(key: ApiKey) -> str:
    """Give an unsaved key (the admin's add form) its secret: returns the plain key to show once."""
    plain = secrets.token_urlsafe(KEY_BYTES)
    key.prefix, key.key_hash = plain[:PREFIX_LENGTH], hash_key(plain)
    return plain


def find_key(plain: str) -> ApiKey | None:
    """The usable key (not revoked, not expired, its account active) that `plain` is, or None."""
    if not plain or len(plain) < PREFIX_LENGTH or len(plain) > 200:
        return None
    digest = hash_key(plain)
    for key in ApiKey.objects.filter(prefix=plain[:PREFIX_LENGTH]).select_related("user"):
        if hmac.compare_digest(key.key_hash, digest):
            now = timezone.now()
            if key.revoked_at is not None or key.expires_at <= now or not key.user.is_active:
                return None
            return key
    return None


def touch(key: ApiKey) -> None:
    """Record the key's use, at most once a minute (one UPDATE, not on every call)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def revoke(key: ApiKey) -> bool:
    """Revoke the key now; False when it was already revoked."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = timezone.now()
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=key.revoked_at)
    return True
