"""The audit log: append-only, chained with a keyed MAC, verifiable, anchored outside.

Every row's MAC (HMAC-SHA256 with the audit key, runtime/audit/key.py, held outside the
database) covers its own contents and the previous row's MAC; a head row holds the last sequence
number and MAC. Editing a row breaks its MAC, deleting one breaks the chain (or leaves the head
pointing past the end), and without the key nobody can forge a chain that verifies. Rows are
written in the same transaction as the change they describe, so the log and the data never
disagree.

Entries written before the key was introduced (revision 0010_audit_keyed records the first keyed
sequence number in `banyan_audit_keyed`) keep their plain SHA-256 hashes and still verify; the
result says how many there are.

What a key cannot catch — the tail cut off and the head moved back, or both tables emptied — the
anchors do: `anchor()` is the head's sequence number and MAC, written outside the database
(`banyan audit anchor`), and `verify(anchors=…)` fails on a log shorter than an anchor or whose
entry at an anchor has another MAC. A log that is empty while deployments exist fails too.
"""
from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.errors import BanyanError
from runtime.audit.key import KEY_ENV, KEY_FILE_ENV, AuditKeyError, key_source, make_key, read_key
from runtime.storage.archive import audit_archive
from runtime.storage.prepared import Prepared
from runtime.storage.tables import audit_head, audit_holds, audit_log, deployments

GENESIS = "0" * 64
DEPLOY_ACTIONS = ("deploy", "rollback", "promote")

# Where the keyed chain begins (revision 0010_audit_keyed; one row, id 1).
audit_keyed = sa.table("banyan_audit_keyed", sa.column("id", sa.Integer), sa.column("keyed_from", sa.BigInteger))


class AnchorError(BanyanError):
    """An anchor cannot be written, sent or read; the message says where and what to do."""
    code, status, namespace = "anchor", 400, "audit"


def operator() -> str:
    """Who acts when no person is named: the operator at the command line (`BANYAN_ACTOR`, else
    the system user)."""
    try:
        return os.environ.get("BANYAN_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "operator"


_written_at: ContextVar[datetime | None] = ContextVar("banyan_audit_written_at", default=None)


def utc_now() -> datetime:
    """Now, in UTC (or the moment `written_at` gives). Hashes use the naive UTC form, which both
    backends give back unchanged."""
    moment = _written_at.get()
    return datetime.now(timezone.utc) if moment is None else moment


@contextmanager
def written_at(moment: datetime) -> Iterator[None]:
    """Date the records written and the entries chained inside the block at `moment` (aware) instead
    of now: for loading a history of past states oldest first (the demo bank's month-ends,
    examples/demo_bank/history.py), which the as-of view of a backtest reads back
    (runtime/records/history.py). The chain's order and MACs are untouched."""
    token = _written_at.set(moment.astimezone(timezone.utc))
    try:
        yield
    finally:
        _written_at.reset(token)


def _naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str                     # create | update | delete | deploy | rollback | promote
    entity: str | None = None
    record_id: int | None = None
    before: str | None = None       # JSON text of the record before (None on create)
    after: str | None = None        # JSON text after (None on delete)
    holds: tuple[int, ...] = ()     # an entry about several records (a bulk create, a list read): their
    #                                 ids, indexed in banyan_audit_holds (not part of the chained text)


_quote = json.encoder.encode_basestring_ascii      # what json.dumps does with a str, without its set-up


def _text(value: str | None) -> str:
    """`json.dumps(value)` of a text field, the same characters, cheaper (each append hashes four)."""
    if value is None:
        return "null"
    return _quote(value) if type(value) is str else json.dumps(value)


def at_text(at: datetime) -> str:
    """An entry's time as its hash reads it (naive UTC, to the microsecond)."""
    return _naive_utc(at).isoformat(timespec="microseconds")


def _body(prev: str, seq: int, at: datetime | str, actor: str, version: int | None, action: str,
          entity: str | None, record_id: int | None, before: str | None, after: str | None) -> bytes:
    # fields joined by the unit separator; text fields are JSON-escaped so none can contain it.
    # `at` may come as its `at_text` already (a batch's entries share one time).
    return "\x1f".join((prev, str(seq), at if isinstance(at, str) else at_text(at), _text(actor),
                        str(version), action, _text(entity), str(record_id), _text(before),
                        _text(after))).encode()


def entry_hash(prev: str, seq: int, at: datetime, actor: str, version: int | None, action: str,
               entity: str | None, record_id: int | None, before: str | None, after: str | None) -> str:
    """The plain SHA-256 of an entry written before the chain was keyed."""
    return hashlib.sha256(_body(prev, seq, at, actor, version, action, entity, record_id, before, after)).hexdigest()


def entry_mac(signer: "hmac.HMAC", prev: str, seq: int, at: datetime | str, actor: str, version: int | None, action: str,
              entity: str | None, record_id: int | None, before: str | None, after: str | None) -> str:
    """The entry's HMAC-SHA256 under the audit key (`signer`: an HMAC holding the key, see `signer`)."""
    mac = signer.copy()
    mac.update(_body(prev, seq, at, actor, version, action, entity, record_id, before, after))
    return mac.hexdigest()


def _signer_of(key: bytes) -> "hmac.HMAC":
    return hmac.new(key, digestmod=hashlib.sha256)


_SIGNERS: dict[tuple, "hmac.HMAC"] = {}


_URLS: "weakref.WeakKeyDictionary[sa.Engine, str]" = weakref.WeakKeyDictionary()


def _env_of(engine: sa.Engine) -> tuple:
    """What the key depends on: the database (its URL, rendered once per engine: a URL hashes by
    rendering itself) and the environment that may point elsewhere."""
    url = _URLS.get(engine)
    if url is None:
        url = _URLS[engine] = engine.url.render_as_string(hide_password=False)
    return (url, os.environ.get(KEY_ENV), os.environ.get(KEY_FILE_ENV), os.environ.get("BANYAN_SECRET_FILE"),
            os.environ.get("XDG_DATA_HOME"))


def keyed_from(conn: Connection) -> int | None:
    """The first sequence number chained with the key (None: the record of it is missing)."""
    return conn.execute(sa.select(audit_keyed.c.keyed_from).where(audit_keyed.c.id == 1)).scalar()


def signer(conn: Connection) -> "hmac.HMAC":
    """The audit key of `conn`'s database, ready to sign (read once per process and place). A key
    file is made on first use, unless entries were signed already: then its loss is an error."""
    env = _env_of(conn.engine)
    found = _SIGNERS.get(env)
    if found is None:
        source = key_source(conn.engine.url)
        key = read_key(source)
        if key is None:
            first = keyed_from(conn) or 1
            head = conn.execute(sa.select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar() or 0
            if head >= first:
                raise AuditKeyError(f"the audit key file {source.path} is missing, but audit entries {first}–{head} "
                                    f"were signed with it: restore the file (or point {KEY_FILE_ENV} or "
                                    f"{KEY_ENV} at the key); a new key would make the whole log look forged")
            key = make_key(source)
        found = _SIGNERS[env] = _signer_of(key)
    return found


# Prepared once: append runs in every write transaction (each flow command, each record write).
_HEAD = Prepared(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1))
_HEAD_LOCKED = Prepared(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update())
_LOG = Prepared(audit_log.insert(), ["seq", "at", "actor", "bundle_version", "action", "entity", "record_id",
                                     "before", "after", "prev_hash", "hash"])
_MOVE = Prepared(audit_head.update().where(audit_head.c.id == 1).values(seq=sa.bindparam("seq"),
                                                                         hash=sa.bindparam("hash")))
_FIRST = Prepared(audit_head.insert(), ["id", "seq", "hash"])
_HOLDS = Prepared(audit_holds.insert(), ["entity", "record_id", "seq"])
# PostgreSQL: the last entry and the head's move in one statement, one round trip less while the
# head is locked (SQLite has no data-modifying WITH; there one writer goes at a time anyway).
_LAST_AND_MOVE = Prepared(audit_log.insert().add_cte(
    audit_head.update().where(audit_head.c.id == sa.literal_column("1"))
    .values(seq=sa.bindparam("head_seq"), hash=sa.bindparam("head_hash")).cte("moved")),
    ["seq", "at", "actor", "bundle_version", "action", "entity", "record_id", "before", "after", "prev_hash", "hash"])


def append(conn: Connection, entries: Iterable[AuditEntry], bundle_version: int | None) -> int:
    """Chain `entries` onto the log in the caller's transaction; returns how many were written.
    On PostgreSQL the head row is locked, so concurrent writers chain one after the other."""
    entries = list(entries)
    if not entries:
        return 0
    head = (_HEAD_LOCKED if conn.dialect.name == "postgresql" else _HEAD).first(conn)
    key = signer(conn)
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    at = utc_now()
    rows = []
    when = at_text(at)
    for e in entries:
        seq += 1
        h = entry_mac(key, prev, seq, when, e.actor, bundle_version, e.action, e.entity, e.record_id, e.before, e.after)
        rows.append({"seq": seq, "at": at, "actor": e.actor, "bundle_version": bundle_version, "action": e.action,
                     "entity": e.entity, "record_id": e.record_id, "before": e.before, "after": e.after,
                     "prev_hash": prev, "hash": h})
        prev = h
    held = [{"entity": e.entity, "record_id": i, "seq": r["seq"]}
            for e, r in zip(entries, rows) if e.holds and e.entity for i in dict.fromkeys(e.holds)]
    if held:
        _HOLDS.many(conn, held)
    if head and conn.dialect.name == "postgresql":
        _LOG.many(conn, rows[:-1])
        _LAST_AND_MOVE.run(conn, {**rows[-1], "head_seq": seq, "head_hash": prev})
        return len(rows)
    _LOG.many(conn, rows)
    if head:
        _MOVE.run(conn, {"seq": seq, "hash": prev})
    else:
        _FIRST.run(conn, {"id": 1, "seq": seq, "hash": prev})
    return len(rows)


# -- anchors -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Anchor:
    """The head at one moment, kept outside the database: the log must reach `seq` with `mac` there."""
    seq: int
    mac: str
    keyed_from: int | None
    at: str
    where: str = ""                 # the anchors file and line, for messages

    def to_json(self) -> dict:
        return {"seq": self.seq, "mac": self.mac, "keyed_from": self.keyed_from, "at": self.at}


def anchor(conn: Connection) -> Anchor:
    """The head's sequence number and MAC now."""
    missing = _missing_tables(conn)
    if missing:
        raise AnchorError(f"the audit table(s) {', '.join(missing)} are missing: nothing to anchor "
                          "(run `banyan audit verify`)")
    head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    seq, mac = (head.seq, head.hash) if head else (0, GENESIS)
    return Anchor(seq, mac, keyed_from(conn), utc_now().isoformat(timespec="seconds"))



# -- verifying ---------------------------------------------------------------------------------
@dataclass
class VerifyResult:
    checked: int = 0
    keyed_from: int | None = None   # the first entry chained with the key
    plain: int = 0                  # entries before it: plain SHA-256, written before the key existed
    anchors: int = 0                # anchors checked
    key: str = ""                   # where the key is held
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _missing_tables(conn: Connection) -> list[str]:
    inspector = sa.inspect(conn)
    return [t.name for t in (audit_log, audit_head) if not inspector.has_table(t.name)]


def verify(conn: Connection, anchors: list[Anchor] | None = None, limit_problems: int = 50) -> VerifyResult:
    """Check the chain: each entry's hash or MAC, the links, the head, the anchors (if given), and
    that a database with deployments has a log."""
    result = VerifyResult()
    missing = _missing_tables(conn)
    if missing:
        result.problems.append(f"the audit table(s) {', '.join(missing)} are missing (dropped): the log is gone; "
                               "restore it from a backup")
        return result
    if sa.inspect(conn).has_table("banyan_audit_keyed"):
        first = keyed_from(conn)
        if first is None:
            result.problems.append("the record of where the keyed chain begins (banyan_audit_keyed) was deleted; "
                                   "every entry is checked against the key")
    else:
        first = None
        result.problems.append("the table banyan_audit_keyed (where the keyed chain begins) is missing; "
                               "every entry is checked against the key")
    result.keyed_from = first = first or 1
    source = key_source(conn.engine.url)
    result.key = source.describe()
    key: "hmac.HMAC | None | bool" = None      # read on the first keyed entry; False: not available
    wanted = {a.seq: a for a in anchors or ()}
    seen: dict[int, str] = {}
    keyed_ok = keyed_bad = 0
    expected_seq, prev = 1, GENESIS
    entries = _entries(conn)
    rows = conn.execution_options(yield_per=5000).execute(sa.select(entries).order_by(entries.c.seq))
    for r in rows:
        result.checked += 1
        if r.seq in wanted:
            seen[r.seq] = r.hash
        if r.seq != expected_seq:
            missing_seq = f"{expected_seq}" if r.seq == expected_seq + 1 else f"{expected_seq}–{r.seq - 1}"
            result.problems.append(f"entry {missing_seq} is missing (deleted)")
        elif r.prev_hash != prev:
            result.problems.append(f"entry {r.seq} does not follow entry {r.seq - 1} (the chain is broken)")
        fields = (r.prev_hash, r.seq, r.at, r.actor, r.bundle_version, r.action, r.entity, r.record_id, r.before, r.after)
        if r.seq < first:
            result.plain += 1
            recomputed = entry_hash(*fields)
        else:
            if key is None:
                try:
                    found = read_key(source)
                except AuditKeyError as exc:
                    result.problems.append(exc.message)
                    found = None
                else:
                    if found is None:
                        result.problems.append(f"the audit key ({result.key}) is missing: entries from {r.seq} "
                                               "on cannot be checked; restore the key file")
                key = _signer_of(found) if found else False
            recomputed = entry_mac(key, *fields) if key else r.hash
            keyed_ok, keyed_bad = (keyed_ok + 1, keyed_bad) if recomputed == r.hash else (keyed_ok, keyed_bad + 1)
        if recomputed != r.hash:
            what = " ".join(str(x) for x in (r.action, r.entity, r.record_id) if x)
            result.problems.append(f"entry {r.seq} ({what}) was edited: its contents do not match its hash")
        expected_seq, prev = r.seq + 1, r.hash
        if len(result.problems) >= limit_problems:
            break
    else:
        _after_entries(conn, result, expected_seq - 1, prev, wanted, seen, entries)
    if keyed_bad and not keyed_ok:
        result.problems.insert(0, f"none of the {keyed_bad:,} keyed entries checked matches the audit key "
                                  f"({result.key}): either the log was rewritten, or this is not the key it was "
                                  "written with")
    return result


def _entries(conn: Connection) -> sa.Subquery:
    """The chain: the entries archived past their retention (runtime/storage/archive.py), then the log."""
    if sa.inspect(conn).has_table(audit_archive.name):
        return sa.union_all(sa.select(audit_archive), sa.select(audit_log)).subquery("entries")
    return sa.select(audit_log).subquery("entries")


def _after_entries(conn: Connection, result: VerifyResult, last: int, prev: str,
                   wanted: dict[int, Anchor], seen: dict[int, str], entries: sa.Subquery) -> None:
    head = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).first()
    if head is None and last:
        result.problems.append("the head row is missing")
    elif head is not None and (head.seq != last or head.hash != prev):
        if head.seq > last:
            gone = f"entry {head.seq} at the end is" if head.seq == last + 1 else f"entries {last + 1}–{head.seq} at the end are"
            result.problems.append(f"{gone} missing (deleted)")
        else:
            result.problems.append(f"the head says entry {head.seq}, the log ends at {last} with another hash")
    for mark in sorted(wanted.values(), key=lambda a: a.seq):
        result.anchors += 1
        when = f"anchored {mark.at} ({mark.where})" if mark.at else f"anchored ({mark.where})"
        if mark.seq > last:
            result.problems.append(f"the log ends at entry {last:,}, but entry {mark.seq:,} was {when}: "
                                   f"entries {last + 1:,}–{mark.seq:,} were deleted")
        elif mark.seq and mark.seq not in seen:
            result.problems.append(f"entry {mark.seq:,} was {when}, and is missing (deleted)")
        elif mark.seq and seen[mark.seq] != mark.mac:
            result.problems.append(f"entry {mark.seq:,} is not the entry {when}: its MAC differs (the log was rewritten)")
        if mark.keyed_from is not None and result.keyed_from is not None and result.keyed_from > mark.keyed_from:
            result.problems.append(f"the keyed chain now begins at entry {result.keyed_from:,}, but at entry "
                                   f"{mark.keyed_from:,} by the anchor {mark.where}: where it begins was changed")
    if last == 0 and sa.inspect(conn).has_table(deployments.name):
        count = conn.execute(sa.select(sa.func.count()).select_from(deployments)).scalar() or 0
        if count:
            result.problems.append(f"the log is empty, but {count:,} deployment(s) exist: its entries were deleted")
    elif last and sa.inspect(conn).has_table(deployments.name):
        newest = conn.execute(sa.select(sa.func.max(deployments.c.version))).scalar()
        if newest is not None and conn.execute(sa.select(entries.c.seq).where(
                entries.c.bundle_version == newest, entries.c.action.in_(DEPLOY_ACTIONS)).limit(1)).first() is None:
            result.problems.append(f"deployment v{newest} has no audit entry: the entries at the end were deleted")
