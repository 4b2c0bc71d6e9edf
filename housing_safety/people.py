"""How a person is named on every page, document and picker: the name the administrator entered (the user's full
name), or the login name when none was entered. Installed as the user model's str() (apps.ready), so the admin's
pickers (抽取人, 包片人员), the change history (变更记录) and every `{{ user }}` show the name too."""

from __future__ import annotations


def person_name(user) -> str:
    return user.get_full_name() or user.get_username()
