"""People who sign in: argon2id password hashes, the admin flag, roles held in org units,
what each role may do, API tokens (hashed; shown once).

Profiles and roles held live in the flow runtime's people directory (flow_tables.py), so the
flow engine and sign-in read one record of who is who.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine

from dsl.errors import BanyanError
from runtime.audit import log as audit
from runtime.auth.tables import api_tokens, people, role_grants, role_holders, users
from runtime.storage.db import writing

PERMISSIONS = ("records.write", "records.import", "records.delete", "deployments.read", "users.admin")
NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,99}$")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not a password of anyone")


class UserError(BanyanError):
    """Input that cannot be saved: [(field, message)]."""
    code, status, namespace = "invalid_user", 422, "auth"

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems), problems=problems)


@dataclass(frozen=True)
class User:
    name: str
    display_name: str
    org_unit: str
    email: str | None
    is_admin: bool
    active: bool
    epoch: int
    roles: tuple[tuple[str, str], ...] = ()         # (role, org unit or "" for bank-wide)
    permissions: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: str) -> bool:
        return self.is_admin or permission in self.permissions


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _event(by: str | None, action: str, user: str | None, address: str | None, before: dict | None = None,
           **after) -> audit.AuditEntry:
    """A security event as an audit entry (entity `user`): who (`by`; None is the operator), what,
    about whom, from which address when known; `after`/`before` hold the details as JSON."""
    detail = {"user": user, **({"address": address} if address else {}), **after}
    return audit.AuditEntry(by or audit.operator(), action, "user", None,
                            json.dumps(before, ensure_ascii=False, sort_keys=True) if before is not None else None,
                            json.dumps(detail, ensure_ascii=False, sort_keys=True))


def _changes(by: str | None, address: str | None, old: "User | None", new: "User", password: bool,
             roles_given: bool) -> list[audit.AuditEntry]:
    """The security events of saving `new` over `old` (None: created)."""
    name, out = new.name, []
    profile = {"display_name": new.display_name, "org_unit": new.org_unit, "email": new.email}
    if old is None:
        out.append(_event(by, "user_create", name, address, **profile))
    else:
        before = {"display_name": old.display_name, "org_unit": old.org_unit, "email": old.email}
        if before != profile:
            out.append(_event(by, "user_update", name, address, before, **profile))
        if old.active != new.active:
            out.append(_event(by, "user_enable" if new.active else "user_disable", name, address))
        if password:
            out.append(_event(by, "password_set", name, address))
    if (old.is_admin if old else False) != new.is_admin:
        out.append(_event(by, "admin_grant" if new.is_admin else "admin_revoke", name, address))
    if roles_given or old is None:
        had, has = set(old.roles) if old else set(), set(new.roles)
        out += [_event(by, "role_grant", name, address, role=r, unit=u) for r, u in sorted(has - had)]
        out += [_event(by, "role_revoke", name, address, role=r, unit=u) for r, u in sorted(had - has)]
    return out


class UserStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- reading ---------------------------------------------------------------------------
    def get(self, name: str, conn: Connection | None = None) -> User | None:
        if conn is None:
            with self.engine.connect() as c:
                return self.get(name, c)
        row = conn.execute(sa.select(users, people.c.display_name, people.c.org_unit, people.c.email)
                           .select_from(users.outerjoin(people, people.c.name == users.c.name))
                           .where(users.c.name == name)).mappings().first()
        if row is None:
            return None
        held = tuple(conn.execute(sa.select(role_holders.c.role, role_holders.c.org_unit)
                                  .where(role_holders.c.user_name == name).order_by(role_holders.c.role)).all())
        perms = frozenset(conn.execute(sa.select(role_grants.c.permission)
                                       .where(role_grants.c.role.in_([r for r, _ in held]))).scalars()) if held else frozenset()
        return User(row["name"], row["display_name"] or row["name"], row["org_unit"] or "", row["email"],
                    bool(row["is_admin"]), bool(row["active"]), row["session_epoch"], tuple((r, u) for r, u in held), perms)

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            names = conn.execute(sa.select(users.c.name).order_by(users.c.name)).scalars().all()
            return [u for n in names if (u := self.get(n, conn)) is not None]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(users)).scalar() or 0

    # -- signing in ------------------------------------------------------------------------
    def authenticate(self, name: str, password: str) -> User | None:
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(users.c.password_hash, users.c.active)
                                  .where(users.c.name == name)).first()
        try:
            _HASHER.verify(stored.password_hash if stored and stored.password_hash else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        if stored is None or not stored.password_hash or not stored.active:
            return None
        if _HASHER.check_needs_rehash(stored.password_hash):
            with writing(self.engine) as conn:
                conn.execute(users.update().where(users.c.name == name).values(password_hash=_HASHER.hash(password)))
        return self.get(name)

    def audit_sign_in(self, name: str, user: User | None, address: str | None) -> None:
        """Audit a sign-in (`user` signed in) or a failed one (`user` None; `name` as typed is kept
        only when it names someone — a password typed into the name field never reaches the log)."""
        with writing(self.engine) as conn:
            if user is not None:
                entry = _event(user.name, "sign_in", user.name, address)
            else:
                known = bool(name) and conn.execute(sa.select(users.c.name).where(users.c.name == name)).first() is not None
                entry = _event("anonymous", "sign_in_failed", name if known else None, address, known=known)
            audit.append(conn, [entry], None)

    # -- writing ---------------------------------------------------------------------------
    def save(self, name: str, *, display_name: str, org_unit: str, email: str | None = None,
             password: str | None = None, is_admin: bool = False, active: bool = True,
             roles: list[tuple[str, str]] | None = None, tree=None, new: bool = False,
             by: str | None = None, address: str | None = None) -> User:
        """Create (new=True) or change a person; `tree` (OrgTree) checks units and roles. `by` (who
        does it; None: the operator) and `address` go to the audit log with every change."""
        problems = self._problems(name, display_name, org_unit, email, password, roles or [], tree, new)
        if problems:
            raise UserError(problems)
        with writing(self.engine) as conn:
            exists = conn.execute(sa.select(users.c.name).where(users.c.name == name)).first() is not None
            if new and exists:
                raise UserError([("name", f"`{name}` is already taken")])
            if not new and not exists:
                raise UserError([("name", f"no user `{name}`")])
            old = None if new else self.get(name, conn)
            values = {"is_admin": is_admin, "active": active}
            if password:
                values["password_hash"] = _HASHER.hash(password)
            if new:
                conn.execute(users.insert().values(name=name, created_at=_now(), session_epoch=0, **values))
            else:
                if password or not active:
                    values["session_epoch"] = users.c.session_epoch + 1
                conn.execute(users.update().where(users.c.name == name).values(**values))
            conn.execute(people.delete().where(people.c.name == name))
            conn.execute(people.insert().values(name=name, display_name=display_name, org_unit=org_unit, email=email or None))
            if roles is not None:
                conn.execute(role_holders.delete().where(role_holders.c.user_name == name))
                for role, unit in dict.fromkeys(roles):
                    conn.execute(role_holders.insert().values(user_name=name, role=role, org_unit=unit))
            found = self.get(name, conn)
            audit.append(conn, _changes(by, address, old, found, bool(password), roles is not None), None)
        return found

    def _problems(self, name, display_name, org_unit, email, password, roles, tree, new) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if not NAME.match(name or ""):
            out.append(("name", "2–100 characters: lower-case letters, digits, _ . -, starting with a letter"))
        if not (display_name or "").strip():
            out.append(("display_name", "required"))
        if tree is not None and org_unit not in tree.units:
            out.append(("org_unit", f"no org unit `{org_unit}`"))
        if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
            out.append(("email", "not an e-mail address"))
        if new and not password:
            out.append(("password", "required for a new user"))
        if password and len(password) < MIN_PASSWORD:
            out.append(("password", f"at least {MIN_PASSWORD} characters"))
        for role, unit in roles:
            why = tree.role_allowed(role, unit or org_unit) if tree is not None else None
            if why:
                out.append(("roles", why))
        return out

    def set_password(self, name: str, password: str, *, by: str | None = None, address: str | None = None) -> None:
        if len(password) < MIN_PASSWORD:
            raise UserError([("password", f"at least {MIN_PASSWORD} characters")])
        with writing(self.engine) as conn:
            done = conn.execute(users.update().where(users.c.name == name).values(
                password_hash=_HASHER.hash(password), session_epoch=users.c.session_epoch + 1))
            if done.rowcount != 1:
                raise UserError([("name", f"no user `{name}`")])
            audit.append(conn, [_event(by, "password_set", name, address)], None)

    def has_password(self, name: str, password: str) -> bool:
        """Whether `name` can sign in with `password` (active, hash matches); changes nothing."""
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(users.c.password_hash, users.c.active)
                                  .where(users.c.name == name)).first()
        if stored is None or not stored.password_hash or not stored.active:
            return False
        try:
            return _HASHER.verify(stored.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def set_active(self, name: str, active: bool, *, by: str | None = None, address: str | None = None) -> None:
        """Enable or disable `name`; disabling ends their sessions (their API tokens stop working too)."""
        with writing(self.engine) as conn:
            values: dict = {"active": active}
            if not active:
                values["session_epoch"] = users.c.session_epoch + 1
            done = conn.execute(users.update().where(users.c.name == name).values(**values))
            if done.rowcount != 1:
                raise UserError([("name", f"no user `{name}`")])
            audit.append(conn, [_event(by, "user_enable" if active else "user_disable", name, address)], None)

    def grant_role(self, name: str, role: str, unit: str, tree, *, by: str | None = None,
                   address: str | None = None) -> bool:
        """Let `name` hold `role` in `unit` ("" for a bank-wide role); False when they already did."""
        why = tree.role_allowed(role, unit)
        if why:
            raise UserError([("roles", why)])
        with writing(self.engine) as conn:
            if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first() is None:
                raise UserError([("name", f"no user `{name}`")])
            held = role_holders.c.user_name == name, role_holders.c.role == role, role_holders.c.org_unit == unit
            if conn.execute(sa.select(role_holders.c.role).where(*held)).first() is not None:
                return False
            conn.execute(role_holders.insert().values(user_name=name, role=role, org_unit=unit))
            audit.append(conn, [_event(by, "role_grant", name, address, role=role, unit=unit)], None)
        return True

    def revoke_role(self, name: str, role: str, unit: str, *, by: str | None = None,
                    address: str | None = None) -> bool:
        """Stop `name` holding `role` in `unit`; False when they did not hold it there."""
        with writing(self.engine) as conn:
            if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first() is None:
                raise UserError([("name", f"no user `{name}`")])
            done = conn.execute(role_holders.delete().where(role_holders.c.user_name == name,
                                                            role_holders.c.role == role,
                                                            role_holders.c.org_unit == unit))
            if done.rowcount > 0:
                audit.append(conn, [_event(by, "role_revoke", name, address, role=role, unit=unit)], None)
            return done.rowcount > 0

    # -- role permissions ------------------------------------------------------------------
    def grants(self) -> dict[str, set[str]]:
        with self.engine.connect() as conn:
            out: dict[str, set[str]] = {}
            for role, perm in conn.execute(sa.select(role_grants.c.role, role_grants.c.permission)):
                out.setdefault(role, set()).add(perm)
            return out

    def set_grants(self, role: str, permissions: set[str], *, by: str | None = None,
                   address: str | None = None) -> None:
        unknown = permissions - set(PERMISSIONS)
        if unknown:
            raise UserError([("permissions", "unknown: " + ", ".join(sorted(unknown)))])
        with writing(self.engine) as conn:
            had = sorted(conn.execute(sa.select(role_grants.c.permission).where(role_grants.c.role == role)).scalars())
            conn.execute(role_grants.delete().where(role_grants.c.role == role))
            for p in sorted(permissions):
                conn.execute(role_grants.insert().values(role=role, permission=p))
            if had != sorted(permissions):
                audit.append(conn, [_event(by, "grants_set", None, address, {"role": role, "permissions": had},
                                           role=role, permissions=sorted(permissions))], None)

    # -- API tokens ------------------------------------------------------------------------
    def create_token(self, user: str, label: str, *, by: str | None = None, address: str | None = None) -> str:
        """A new token `bny_<id>_<secret>`; only its hash is kept, so it is shown once."""
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        with writing(self.engine) as conn:
            conn.execute(api_tokens.insert().values(id=token_id, user_name=user, label=label.strip() or "token",
                                                    secret_hash=_sha(secret), created_at=_now(), revoked=False))
            audit.append(conn, [_event(by, "token_create", user, address, token=token_id,
                                       label=label.strip() or "token")], None)
        return f"bny_{token_id}_{secret}"

    def token_user(self, token: str) -> User | None:
        m = re.fullmatch(r"bny_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})", token.strip())
        if m is None:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == m.group(1))).mappings().first()
        if row is None or row["revoked"] or not hmac.compare_digest(row["secret_hash"], _sha(m.group(2))):
            return None
        user = self.get(row["user_name"])
        if user is None or not user.active:
            return None
        with writing(self.engine) as conn:
            conn.execute(api_tokens.update().where(api_tokens.c.id == row["id"]).values(last_used_at=_now()))
        return user

    def tokens(self, user: str) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                sa.select(api_tokens.c.id, api_tokens.c.label, api_tokens.c.created_at, api_tokens.c.last_used_at,
                          api_tokens.c.revoked).where(api_tokens.c.user_name == user)
                .order_by(api_tokens.c.created_at.desc())).mappings()]

    def revoke_token(self, user: str, token_id: str, *, by: str | None = None, address: str | None = None) -> bool:
        with writing(self.engine) as conn:
            done = conn.execute(api_tokens.update().where(api_tokens.c.id == token_id, api_tokens.c.user_name == user)
                                .values(revoked=True))
            if done.rowcount == 1:
                audit.append(conn, [_event(by, "token_revoke", user, address, token=token_id)], None)
            return done.rowcount == 1
