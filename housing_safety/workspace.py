"""The workspace every signed-in page shares: the role's menu, the current page's place in it, and the home's to-dos.

The bottom layer knows no app: each app registers its menu links and its to-do providers in its AppConfig.ready(),
as it registers its attachable records. A link shows to a user who holds its permission (and, where it names roles,
has one of them); a to-do provider returns the counts that user must act on, each with the list behind it.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import mail
from .access import Role, scope_is_cached, scope_of
from .notices import unread_count
from .people import person_name

# The menu's sections, in the order they are shown.
SECTIONS = {
    "households": pgettext_lazy("menu section", "Households and housing"),
    "rectification": pgettext_lazy("menu section", "Rectification"),
    "lists": pgettext_lazy("menu section", "Lists and reports"),
    "system": pgettext_lazy("menu section", "System"),
}


@dataclass(frozen=True)
class Link:
    """One entry of the menu: a page a role may open."""

    section: str
    label: str
    url_name: str
    permission: str | None = None
    roles: frozenset[str] = frozenset()  # empty: every role holding the permission
    icon: str = "circle"
    staff_only: bool = False

    def allows(self, user, role: str | None) -> bool:
        if self.staff_only and not user.is_staff:
            return False
        if self.roles and role not in self.roles:
            return False
        return self.permission is None or user.has_perm(self.permission)


@dataclass(frozen=True)
class Todo:
    """One line of a home: how many things wait, and the list where they are (no count: an action to start)."""

    group: str
    label: str
    count: int | None
    url: str
    tone: str = "info"  # "danger": late; "warning": due soon; "info": waiting; "muted": nothing to do
    note: str = ""


TodoProvider = Callable[[object, datetime.date], Iterable[Todo]]


@dataclass(frozen=True)
class SearchHit:
    """One record found by the search box, as the user may see it (names masked where the role needs it)."""

    label: str
    detail: str
    url: str


@dataclass(frozen=True)
class SearchGroup:
    title: str
    hits: list[SearchHit]
    more_url: str = ""  # the full list of what matched, where there is one


SearchProvider = Callable[[object, str], Iterable[SearchGroup]]
SEARCH_LIMIT = 10  # hits per group; the group's full list is linked

_links: list[tuple[int, Link]] = [
    (90, Link("system", _("Administration"), "admin:index", icon="gear", staff_only=True))
]
_todo_providers: list[tuple[int, TodoProvider]] = [(92, mail.todos)]  # the outbox's failures, for the administrator
_search_providers: list[tuple[int, SearchProvider]] = []


@dataclass(frozen=True)
class Figures:
    """Counts of the user's whole scope kept up to date by a job (the dashboard's maintained figures), and the moment
    they were read from the records: what a home shows instead of counting the province on every visit."""

    values: dict
    as_of: datetime.datetime


FiguresProvider = Callable[[object, datetime.date], Figures | None]
_figures_providers: list[FiguresProvider] = []


def register_figures(provider: FiguresProvider) -> None:
    """Called from the AppConfig.ready() of the app that maintains the figures (reporting)."""
    if provider not in _figures_providers:
        _figures_providers.append(provider)


def maintained_note(figures: Figures | None) -> str:
    """The line under a count read from the maintained figures: when they were read from the records."""
    if figures is None:
        return ""
    return _("Figures as of %(time)s") % {"time": formats.time_format(timezone.localtime(figures.as_of), "H:i")}


def figures_for(user, today: datetime.date) -> Figures | None:
    """The maintained figures of the user's scope for `today`, or None when none hold them for this user (then the
    caller counts the records). Asked once per user object, however many to-do providers read it. A provider
    checks its own permission before showing a figure: these are counted with every permission."""
    cached = getattr(user, "_maintained_figures", None)
    if cached is None or cached[0] != today:
        found = next((f for provider in _figures_providers if (f := provider(user, today)) is not None), None)
        cached = (today, found)
        if getattr(user, "pk", None):
            user._maintained_figures = cached
    return cached[1]


def register_links(*links: Link, position: int = 50) -> None:
    """Called from an app's AppConfig.ready(); within a section, lower positions come first. Registering the same
    link twice keeps one."""
    for link in links:
        if all(known != link for _position, known in _links):
            _links.append((position, link))
    _links.sort(key=lambda entry: entry[0])  # stable: an app's links keep their order


def register_todos(provider: TodoProvider, position: int = 50) -> None:
    """Called from an app's AppConfig.ready(); the home shows lower positions first."""
    if all(known != provider for _position, known in _todo_providers):
        _todo_providers.append((position, provider))
        _todo_providers.sort(key=lambda entry: entry[0])


def register_search(provider: SearchProvider, position: int = 50) -> None:
    """Called from an app's AppConfig.ready(): the provider answers the search box within the user's scope."""
    if all(known != provider for _position, known in _search_providers):
        _search_providers.append((position, provider))
        _search_providers.sort(key=lambda entry: entry[0])


def search_for(user, term: str) -> list[SearchGroup]:
    """Every provider's groups for the term; an empty term finds nothing."""
    term = term.strip()
    if not term:
        return []
    return [group for _position, provider in _search_providers for group in provider(user, term) if group.hits]


@dataclass(frozen=True)
class Panel:
    """A part of a record's page that another app owns (a household's cases and complaints, its history): drawn with
    `template`, which gets the `context` as `data`."""

    title: str
    template: str
    context: dict
    actions: tuple[tuple[str, str], ...] = ()  # (label, url) the user may take from here


PanelProvider = Callable[[object, object], Panel | None]
_panels: dict[str, list[tuple[int, PanelProvider]]] = {}


def register_panel(record: str, provider: PanelProvider, position: int = 50) -> None:
    """Called from an app's AppConfig.ready(): `provider(user, obj)` answers a panel (or None) for the page of a
    `record` ("households.household"), read through the user's scope."""
    providers = _panels.setdefault(record, [])
    if all(known != provider for _position, known in providers):
        providers.append((position, provider))
        providers.sort(key=lambda entry: entry[0])


def panels_for(record: str, user, obj) -> list[Panel]:
    return [panel for _position, provider in _panels.get(record, []) if (panel := provider(user, obj)) is not None]


@dataclass(frozen=True)
class MenuEntry:
    label: str
    url: str
    icon: str
    current: bool


def menu_for(user, path: str) -> list[tuple[str, list[MenuEntry]]]:
    """The user's menu by section; the entry whose address is the longest start of `path` is the current page."""
    role = identity_of(user)["role_code"]
    allowed = [(link, reverse(link.url_name)) for _position, link in _links if link.allows(user, role)]
    current = max((url for _link, url in allowed if path.startswith(url)), key=len, default=None)
    sections = []
    for key, title in SECTIONS.items():
        entries = [
            MenuEntry(link.label, url, link.icon, url == current) for link, url in allowed if link.section == key
        ]
        if entries:
            sections.append((title, entries))
    return sections


def todos_for(user, today: datetime.date) -> list[tuple[str, list[Todo]]]:
    """Every registered provider's to-dos for the user, grouped as the providers name them, in their order."""
    groups: dict[str, list[Todo]] = {}
    for _position, provider in _todo_providers:
        for todo in provider(user, today):
            groups.setdefault(todo.group, []).append(todo)
    return list(groups.items())


IDENTITY_SECONDS = 300  # the shell's identity line is kept this long (and forgotten when the profile changes)


def _identity_key(user_id: int) -> str:
    return f"shell-identity:{user_id}"


def identity_of(user) -> dict:
    """Who is signed in, for the shell's header and menu: name, role (its code and label) and where they work. Kept in
    the cache per user, so that the shell adds no query to a page that does not read the scope itself (the admin's
    lists); `forget_identity` drops it when a profile changes."""
    key = _identity_key(user.pk)
    if scope_is_cached(user) or (cached := cache.get(key)) is None:
        scope = scope_of(user)
        role = str(Role(scope.role).label) if scope.role in Role.values else ""
        where = str(_("Whole city")) if scope.everything else "、".join(scope.township_names) or scope.unit_name
        cached = {"role_code": scope.role or "", "role": role, "where": where}
        cache.set(key, cached, IDENTITY_SECONDS)
    return {"name": person_name(user), **cached}


def forget_identity(*user_ids: int) -> None:
    """A profile, its townships or its unit changed: the shell reads the identity afresh."""
    cache.delete_many([_identity_key(user_id) for user_id in user_ids])


def shell(request) -> dict:
    """Context processor: the menu and the identity line, computed only when a page's shell draws them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"shell_hotline": settings.SUPERVISION_HOTLINE}
    return {
        "shell_hotline": settings.SUPERVISION_HOTLINE,
        "shell_menu": SimpleLazyObject(lambda: menu_for(user, request.path)),
        "shell_identity": SimpleLazyObject(lambda: identity_of(user)),
        # Called by the template where it draws the badge: the count comes from the cache (housing_safety.notices).
        "shell_unread": functools.cache(lambda: unread_count(user)),
    }
