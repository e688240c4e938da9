"""What each permission a role can be granted (runtime/auth/users.py `PERMISSIONS`) lets a person
do, in words (dsl/messages.yaml `auth.can.<permission>`), and the refusal of a door when the
person lacks one: "You may not import records" / "您没有导入记录的权限" — never the permission's
code (`records.import`) or the person's user name."""
from __future__ import annotations

from dsl.errors import BanyanError, catalog, lang_of, words


def action_words(permission: str, lang: str) -> str:
    """What `permission` lets a person do, in `lang` ("import records", "导入记录")."""
    key = f"auth.can.{permission}"
    return words(key, lang) if key in catalog() else permission


class MissingPermission(BanyanError):
    """A door refused because the person lacks `permission` (a 403 with the action in words)."""
    code, status, namespace, key = "forbidden", 403, "records", "records.forbidden_action"
    generic = True

    def __init__(self, permission: str):
        super().__init__(words(self.key, "en", action=action_words(permission, "en")),
                         params={"action": action_words(permission, "en")})
        self.permission = permission            # for the log, not for the person

    def render(self, lang: str = "en") -> str:
        return words(self.message_key, lang_of(lang, "en"), action=action_words(self.permission, lang_of(lang, "en")))
