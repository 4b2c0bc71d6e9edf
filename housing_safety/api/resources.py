"""The resources keys are scoped to: "read:<resource>" lets a key GET it, "write:<resource>" call its other methods.

Each app registers its resources when its api module is imported (from its AppConfig.ready), so the admin can refuse a
scope that names nothing and list the scopes there are."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

READ, WRITE = "read", "write"

RESOURCES: dict[str, object] = {}  # name -> its label (lazy, in the active language)
ACCESS: dict[str, set[str]] = {}  # name -> what its endpoints offer: READ, WRITE or both


def register_resource(name: str, label, *, read: bool = True, write: bool = False) -> None:
    """A resource and what its endpoints offer (a reads module registers it to be read, a writes module to be
    written; both together make both): a key is offered only the scopes that open something."""
    RESOURCES[name] = label
    ACCESS.setdefault(name, set()).update({READ} if read else (), {WRITE} if write else ())


def scope_for(resource: str, *, write: bool) -> str:
    return f"{WRITE if write else READ}:{resource}"


def all_scopes() -> list[str]:
    return [f"{kind}:{name}" for name in sorted(RESOURCES) for kind in (READ, WRITE) if kind in ACCESS[name]]


def validate_scopes(scopes) -> list[str]:
    """The scopes as a sorted list without repeats; a ValidationError naming what is not a scope."""
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        raise ValidationError(_('Enter the scopes as a list, e.g. ["read:households"].'), code="scopes")
    known = set(all_scopes())
    unknown = [scope for scope in scopes if scope not in known]
    if unknown:
        raise ValidationError(
            _("Not a scope: %(unknown)s. Scopes are: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(sorted(known))},
            code="scopes",
        )
    return sorted(set(scopes))
