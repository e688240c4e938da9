"""People who sign in: argon2id password hashes, the admin flag, roles held in org units,
what each role may do, API tokens (hashed; shown once).

Profiles and roles held live in the flow runtime's people directory (flow_tables.py), so the
flow engine and sign-in read one record of who is who.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine

from dsl.errors import BanyanError
from runtime.audit import log as audit
from runtime.auth import sessions as server_sessions
from runtime.auth import throttle, totp
from runtime.auth.events import security_event, utc
from runtime.auth.policy import SecurityPolicy, load_policy
from runtime.auth.tables import api_tokens, password_history, people, role_grants, role_holders, users
from runtime.storage.db import writing

PERMISSIONS = ("records.write", "records.import", "records.delete", "deployments.read", "users.admin",
               "audit.read", "personal.read", "personal.export", "alerts.close")
NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,99}$")
TOKEN_SCOPES = ("read", "write")
TOKEN_TOUCH = timedelta(seconds=server_sessions.TOUCH_SECONDS)   # a token's "last used" is written as a session's is
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not a password of anyone")


PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")

class UserError(BanyanError):
    """Input that cannot be saved: [(field, message)]."""
    code, status, namespace = "invalid_user", 422, "auth"

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems), problems=problems)


class PasswordRejected(UserError):
    """A password the policy refuses (runtime/auth/policy.py); its words are auth.password.<why>
    in dsl/messages.yaml, `problems` the one (field, English message) of a UserError."""
    code = "password_rejected"

    def __init__(self, why: str, **params: object):
        BanyanError.__init__(self, "", key=f"auth.password.{why}", params=params)
        self.problems = [("password", self.message)]
        self.why = why


@dataclass(frozen=True)
class Attempt:
    """What a sign-in with a password came to: `user` when the password was right (the second
    factor may still be due), `locked` when the name or the address is locked out."""
    user: "User | None"
    locked: bool = False


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
    totp: bool = False                               # has a second factor (TOTP)

    def can(self, permission: str) -> bool:
        return self.is_admin or permission in self.permissions


def _spend(password: str) -> None:
    """The work of checking a password, for an answer that must take as long as one (a lockout)."""
    try:
        _HASHER.verify(_DUMMY, password[:1000] or "-")
    except (VerificationError, InvalidHashError):
        pass


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_event = security_event        # runtime/auth/events.py


def _changes(by: str | None, address: str | None, old: "User | None", new: "User", password: bool,
             roles_given: bool, ended: dict | None = None) -> list[audit.AuditEntry]:
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
            out.append(_event(by, "user_enable" if new.active else "user_disable", name, address,
                              **(ended if not new.active and not password else {})))
        if password:
            out.append(_event(by, "password_set", name, address, **(ended or {})))
    if (old.is_admin if old else False) != new.is_admin:
        out.append(_event(by, "admin_grant" if new.is_admin else "admin_revoke", name, address))
    if roles_given or old is None:
        had, has = set(old.roles) if old else set(), set(new.roles)
        out += [_event(by, "role_grant", name, address, role=r, unit=u) for r, u in sorted(has - had)]
        out += [_event(by, "role_revoke", name, address, role=r, unit=u) for r, u in sorted(had - has)]
    return out


class UserStore:
    def __init__(self, engine: Engine, policy: SecurityPolicy | None = None):
        self.engine = engine
        self.policy = policy or load_policy()
        self.generation = 0          # bumped by every change made through this store (caches follow it)

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
                    bool(row["is_admin"]), bool(row["active"]), row["session_epoch"], tuple((r, u) for r, u in held), perms,
                    bool(row["totp_secret"]))

    def list(self) -> list[User]:
        """Everyone, by user name, in three queries whatever their number (people, the roles they
        hold, the permissions of those roles) — the same User values `get` makes one by one."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(users, people.c.display_name, people.c.org_unit, people.c.email)
                                .select_from(users.outerjoin(people, people.c.name == users.c.name))
                                .order_by(users.c.name)).mappings().all()
            held: dict[str, list[tuple[str, str]]] = {}
            for user_name, role, unit in conn.execute(
                    sa.select(role_holders.c.user_name, role_holders.c.role, role_holders.c.org_unit)
                    .order_by(role_holders.c.user_name, role_holders.c.role)):
                held.setdefault(user_name, []).append((role, unit))
            perms_of: dict[str, set[str]] = {}
            for role, permission in conn.execute(sa.select(role_grants.c.role, role_grants.c.permission)):
                perms_of.setdefault(role, set()).add(permission)
        out = []
        for row in rows:
            mine = tuple(held.get(row["name"], ()))
            perms = frozenset(p for r, _ in mine for p in perms_of.get(r, ()))
            out.append(User(row["name"], row["display_name"] or row["name"], row["org_unit"] or "", row["email"],
                            bool(row["is_admin"]), bool(row["active"]), row["session_epoch"], mine, perms,
                            bool(row["totp_secret"])))
        return out

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

    def attempt(self, name: str, password: str, address: str | None) -> Attempt:
        """A sign-in with a password, counted against brute force (runtime/auth/throttle.py): a
        locked name or address is refused before the password is looked at (with the same work,
        so the answer takes as long), a failure is counted and audited (and the lock it sets). The
        second factor, if any, is still due; the whole sign-in (`open_session`) clears the count."""
        name = (name or "").strip()
        with writing(self.engine) as conn:
            if throttle.locked(conn, name, address):
                _spend(password)
                known = self._known(conn, name)
                audit.append(conn, [_event("anonymous", "sign_in_failed", known, address, known=known is not None,
                                           locked=True)], None)
                return Attempt(None, locked=True)
        user = self.authenticate(name, password) if name and password and len(password) < 1000 else None
        with writing(self.engine) as conn:
            if user is not None:              # the count is cleared by the whole sign-in (open_session), so
                return Attempt(user)          # a right password does not buy more one-time-code guesses
            known = self._known(conn, name)
            entries = [_event("anonymous", "sign_in_failed", known, address, known=known is not None)]
            locks = throttle.record_failure(conn, name, address, known, self.policy)
            entries += [_event("anonymous", "sign_in_lockout", lock.user, address, scope=lock.kind,
                               failures=lock.failures, until=lock.until.isoformat()) for lock in locks]
            audit.append(conn, entries, None)
            return Attempt(None, locked=bool(locks))

    def second_factor_failed(self, name: str, address: str | None) -> bool:
        """A wrong one-time code after a right password: counted like a wrong password; True when it locked."""
        with writing(self.engine) as conn:
            entries = [_event("anonymous", "sign_in_failed", name, address, known=True, factor="totp")]
            locks = throttle.record_failure(conn, name, address, name, self.policy)
            entries += [_event("anonymous", "sign_in_lockout", lock.user, address, scope=lock.kind,
                               failures=lock.failures, until=lock.until.isoformat()) for lock in locks]
            audit.append(conn, entries, None)
            return bool(locks)

    def is_locked(self, name: str, address: str | None) -> bool:
        with self.engine.connect() as conn:
            return throttle.locked(conn, name, address)

    @staticmethod
    def _known(conn: Connection, name: str) -> str | None:
        """`name` when it is someone's user name (so a password typed as the name is never kept)."""
        if not name or not NAME.match(name):
            return None
        found = conn.execute(sa.select(users.c.name).where(users.c.name == name)).first()
        return name if found is not None else None

    def open_session(self, user: User, address: str | None, *, second_factor: bool = False,
                     action: str = "sign_in") -> str:
        """The signed-in person's server-side session (its id goes in the cookie); audited as the
        sign-in (`action` "session_renew": the new session after one's own password change)."""
        with writing(self.engine) as conn:
            sid = server_sessions.open_session(conn, user.name, address)
            throttle.clear_name(conn, user.name)
            audit.append(conn, [_event(user.name, action, user.name, address,
                                       **({"totp": True} if second_factor else {}))], None)
        return sid

    def session_user(self, sid: object) -> str | None:
        """Whose live session `sid` is, else None; a session found idle or past its lifetime is
        ended here (a read on every request, a write only every half minute of use)."""
        at = _now()
        name, what = self.session_read(sid, at)
        if what:
            with writing(self.engine) as conn:
                server_sessions.settle(conn, str(sid), what, at)
        return name

    def session_read(self, sid: object, at: datetime | None = None) -> tuple[str | None, str]:
        """`session_user` without its write: (whose live session `sid` is, what is due to be written
        first — "" nothing, else what `session_user` would write: see sessions.verdict)."""
        with self.engine.connect() as conn:
            return server_sessions.verdict(conn, sid, self.policy, at or _now())

    def sign_out(self, sid: object, address: str | None = None) -> None:
        with writing(self.engine) as conn:
            who = server_sessions.end_session(conn, sid)
            if who is not None:
                audit.append(conn, [_event(who, "sign_out", who, address)], None)

    def sign_out_everywhere(self, name: str, *, by: str | None = None, address: str | None = None) -> int:
        """End every session of `name` (their API tokens stay: revoke those one by one)."""
        with writing(self.engine) as conn:
            n = server_sessions.end_all(conn, name, "signed_out_everywhere")
            conn.execute(users.update().where(users.c.name == name).values(session_epoch=users.c.session_epoch + 1))
            audit.append(conn, [_event(by, "sessions_end", name, address, sessions_ended=n)], None)
        self.generation += 1
        return n

    def live_sessions(self, name: str) -> int:
        with self.engine.connect() as conn:
            return server_sessions.live_count(conn, name, self.policy)

    def unlock(self, name: str, *, by: str | None = None, address: str | None = None) -> bool:
        """Lift a sign-in lockout of `name` (and its failure count); False when it was not locked."""
        with writing(self.engine) as conn:
            was = throttle.unlock(conn, user=name)
            if was:
                audit.append(conn, [_event(by, "sign_in_unlock", name, address)], None)
            return was

    def locked_until(self) -> dict[str, datetime]:
        """The people locked out now (by user name) and until when."""
        with self.engine.connect() as conn:
            return {lock.user: lock.until for lock in throttle.current_locks(conn) if lock.user}

    # -- the second factor -----------------------------------------------------------------
    def totp_needed(self, user: User) -> bool:
        """Whether `user` must enrol a second factor before going on (an administrator, by policy)."""
        return self.policy.require_totp_for_admins and user.is_admin and not user.totp

    def verify_totp(self, name: str, code: str) -> bool:
        """Whether `code` is `name`'s current one-time code, used once (the step is kept)."""
        with writing(self.engine) as conn:
            row = conn.execute(sa.select(users.c.totp_secret, users.c.totp_last_step)
                               .where(users.c.name == name)).first()
            if row is None or not row.totp_secret:
                return False
            step = totp.matching_step(row.totp_secret, code, row.totp_last_step)
            if step is None:
                return False
            conn.execute(users.update().where(users.c.name == name).values(totp_last_step=step))
            return True

    def enrol_totp(self, name: str, secret: str, code: str, *, address: str | None = None) -> bool:
        """Keep `secret` as `name`'s second factor once `code` shows their app has it; False if the code is wrong."""
        step = totp.matching_step(secret, code, None)
        if step is None:
            return False
        with writing(self.engine) as conn:
            conn.execute(users.update().where(users.c.name == name).values(totp_secret=secret, totp_last_step=step))
            audit.append(conn, [_event(name, "totp_enrol", name, address)], None)
        self.generation += 1
        return True

    def remove_totp(self, name: str, *, by: str | None = None, address: str | None = None) -> None:
        with writing(self.engine) as conn:
            conn.execute(users.update().where(users.c.name == name).values(totp_secret=None, totp_last_step=None))
            audit.append(conn, [_event(by, "totp_remove", name, address)], None)
        self.generation += 1

    # -- writing ---------------------------------------------------------------------------
    def save(self, name: str, *, display_name: str, org_unit: str, email: str | None = None,
             phone: str | None = None, password: str | None = None, is_admin: bool = False, active: bool = True,
             roles: list[tuple[str, str]] | None = None, tree=None, new: bool = False,
             by: str | None = None, address: str | None = None) -> User:
        """Create (new=True) or change a person; `tree` (OrgTree) checks units and roles. `by` (who
        does it; None: the operator) and `address` go to the audit log with every change."""
        problems = self._problems(name, display_name, org_unit, email, password, roles or [], tree, new)
        if phone is not None and not PHONE.match(phone):
            problems.append(("phone", "a mobile number: digits, optionally + and spaces or dashes, 5–20 long"))
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
            ended: dict = {}
            if password:
                if not new:
                    self._not_reused(conn, name, password)
                values["password_hash"] = _HASHER.hash(password)
            if new:
                conn.execute(users.insert().values(name=name, created_at=_now(), session_epoch=0, **values))
            else:
                if password or not active:
                    values["session_epoch"] = users.c.session_epoch + 1
                conn.execute(users.update().where(users.c.name == name).values(**values))
                if password or not active:
                    ended = self._end_access(conn, name, "password_changed" if password else "disabled",
                                             tokens=bool(password))
            if password:
                self._remember(conn, name, values["password_hash"])
            kept = conn.execute(sa.select(people.c.phone, people.c.language, people.c.supervisor)
                                .where(people.c.name == name)).first()     # what this form does not edit stays
            conn.execute(people.delete().where(people.c.name == name))
            conn.execute(people.insert().values(
                name=name, display_name=display_name, org_unit=org_unit, email=email or None,
                phone=phone if phone is not None else (kept.phone if kept else None),
                language=kept.language if kept else None, supervisor=kept.supervisor if kept else None))
            if roles is not None:
                conn.execute(role_holders.delete().where(role_holders.c.user_name == name))
                for role, unit in dict.fromkeys(roles):
                    conn.execute(role_holders.insert().values(user_name=name, role=role, org_unit=unit))
            found = self.get(name, conn)
            audit.append(conn, _changes(by, address, old, found, bool(password), roles is not None, ended), None)
        self.generation += 1
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
        if password:
            why, slots = self.policy.password_problem(password, name)
            if why:
                out.append(("password", PasswordRejected(why, **slots).message))
        for role, unit in roles:
            why = tree.role_allowed(role, unit or org_unit) if tree is not None else None
            if why:
                out.append(("roles", why))
        return out

    def check_password(self, name: str, password: str, conn: Connection | None = None) -> None:
        """Raise PasswordRejected unless `password` may become `name`'s: the policy's length and
        classes, not the user name, not one of their last `password_history` passwords."""
        why, slots = self.policy.password_problem(password, name)
        if why:
            raise PasswordRejected(why, **slots)
        if conn is None:
            with self.engine.connect() as c:
                return self._not_reused(c, name, password)
        self._not_reused(conn, name, password)

    def _not_reused(self, conn: Connection, name: str, password: str) -> None:
        keep = self.policy.password_history
        if keep <= 0:
            return
        hashes = list(conn.execute(sa.select(password_history.c.password_hash)
                                   .where(password_history.c.user_name == name)
                                   .order_by(password_history.c.id.desc()).limit(keep)).scalars())
        current = conn.execute(sa.select(users.c.password_hash).where(users.c.name == name)).scalar()
        for stored in dict.fromkeys(([current] if current else []) + hashes):
            try:
                if _HASHER.verify(stored, password):
                    raise PasswordRejected("reused", count=keep)
            except (VerificationError, InvalidHashError):
                continue

    def _remember(self, conn: Connection, name: str, password_hash: str) -> None:
        """Keep the new hash in the history (the last `password_history` of them, no more)."""
        conn.execute(password_history.insert().values(user_name=name, password_hash=password_hash, created_at=_now()))
        keep = max(self.policy.password_history, 1)
        old = list(conn.execute(sa.select(password_history.c.id).where(password_history.c.user_name == name)
                                .order_by(password_history.c.id.desc()).offset(keep)).scalars())
        if old:
            conn.execute(password_history.delete().where(password_history.c.id.in_(old)))

    def _end_access(self, conn: Connection, name: str, why: str, *, tokens: bool) -> dict:
        """End `name`'s sessions (and revoke their API tokens when `tokens`); the counts for the audit entry."""
        out = {"sessions_ended": server_sessions.end_all(conn, name, why)}
        if tokens:
            out["tokens_revoked"] = conn.execute(api_tokens.update().where(
                api_tokens.c.user_name == name, api_tokens.c.revoked == sa.false()).values(revoked=True)).rowcount
        return {k: v for k, v in out.items() if v}

    def set_password(self, name: str, password: str, *, by: str | None = None, address: str | None = None) -> None:
        """Set `name`'s password (the policy applies); every session of theirs ends and their API
        tokens are revoked."""
        why, slots = self.policy.password_problem(password, name)
        if why:
            raise PasswordRejected(why, **slots)
        with writing(self.engine) as conn:
            if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first() is None:
                raise UserError([("name", f"no user `{name}`")])
            self._not_reused(conn, name, password)
            hashed = _HASHER.hash(password)
            conn.execute(users.update().where(users.c.name == name).values(
                password_hash=hashed, session_epoch=users.c.session_epoch + 1))
            self._remember(conn, name, hashed)
            ended = self._end_access(conn, name, "password_changed", tokens=True)
            audit.append(conn, [_event(by, "password_set", name, address, **ended)], None)
        self.generation += 1

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
            ended = {} if active else self._end_access(conn, name, "disabled", tokens=False)
            audit.append(conn, [_event(by, "user_enable" if active else "user_disable", name, address, **ended)], None)
        self.generation += 1

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
    def create_token(self, user: str, label: str, *, days: int | None = None, scope: str = "write",
                     by: str | None = None, address: str | None = None) -> str:
        """A new token `bny_<id>_<secret>`; only its hash is kept, so it is shown once. It expires
        after `days` (default the policy's `token_days`, at most `max_token_days`); `scope` "read"
        lets it only read (GET), "write" read and write. A password change revokes it."""
        days = self.policy.token_days if days is None else days
        if scope not in TOKEN_SCOPES:
            raise UserError([("scope", "read or write")])
        if not 1 <= days <= max(self.policy.max_token_days, 1):
            raise UserError([("days", f"a whole number from 1 to {self.policy.max_token_days}")])
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        expires = _now() + timedelta(days=days)
        with writing(self.engine) as conn:
            conn.execute(api_tokens.insert().values(id=token_id, user_name=user, label=label.strip() or "token",
                                                    secret_hash=_sha(secret), created_at=_now(), revoked=False,
                                                    expires_at=expires, scope=scope))
            audit.append(conn, [_event(by, "token_create", user, address, token=token_id,
                                       label=label.strip() or "token", scope=scope,
                                       expires=expires.isoformat(timespec="seconds"))], None)
        return f"bny_{token_id}_{secret}"

    def token_access(self, token: str) -> tuple[User, str] | None:
        """The person a live token acts for and its scope ("read" or "write"); None for a token
        unknown, wrong, revoked, expired, or of a disabled person."""
        m = re.fullmatch(r"bny_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})", token.strip())
        if m is None:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == m.group(1))).mappings().first()
        if row is None or row["revoked"] or not hmac.compare_digest(row["secret_hash"], _sha(m.group(2))):
            return None
        if row["expires_at"] is None or utc(row["expires_at"]) <= _now():  # type: ignore[operator]
            return None
        user = self.get(row["user_name"])
        if user is None or not user.active:
            return None
        now = _now()
        if row["last_used_at"] is None or now - utc(row["last_used_at"]) >= TOKEN_TOUCH:   # type: ignore[operator]
            with writing(self.engine) as conn:      # not a write (and a commit) for every request it makes
                conn.execute(api_tokens.update().where(api_tokens.c.id == row["id"]).values(last_used_at=now))
        return user, row["scope"]

    def token_user(self, token: str) -> User | None:
        found = self.token_access(token)
        return found[0] if found else None

    def tokens(self, user: str) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                sa.select(api_tokens.c.id, api_tokens.c.label, api_tokens.c.created_at, api_tokens.c.last_used_at,
                          api_tokens.c.revoked, api_tokens.c.expires_at, api_tokens.c.scope,
                          (api_tokens.c.expires_at <= _now()).label("expired"))
                .where(api_tokens.c.user_name == user)
                .order_by(api_tokens.c.created_at.desc())).mappings()]

    def revoke_token(self, user: str, token_id: str, *, by: str | None = None, address: str | None = None) -> bool:
        with writing(self.engine) as conn:
            done = conn.execute(api_tokens.update().where(api_tokens.c.id == token_id, api_tokens.c.user_name == user)
                                .values(revoked=True))
            if done.rowcount == 1:
                audit.append(conn, [_event(by, "token_revoke", user, address, token=token_id)], None)
            return done.rowcount == 1
