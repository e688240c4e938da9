"""Apply a plan's table changes inside the caller's transaction.

PostgreSQL: DDL is transactional, so each change is an ALTER (types converted `USING`
the carry expression, constraints dropped and re-added around the change).
SQLite: a column that is only added is an `ALTER TABLE ADD COLUMN`; any other change
rebuilds the table (create the new shape, copy the rows through the carry expressions,
drop the old, rename) — SQLite's documented procedure, run with foreign keys off and
checked with `PRAGMA foreign_key_check` before commit (see deployments.py).
"""
from __future__ import annotations

from typing import Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateColumn, CreateIndex

from dsl.errors import BanyanError
from runtime.deploy.column_changes import RETYPE, carry_expression
from runtime.deploy.plan import ADD_COLUMN, ALTER_COLUMN, CREATE_TABLE, DROP_COLUMN, DROP_TABLE, Change
from runtime.deploy.table_model import NAMING, ColumnSpec, TableSpec, enum_check, index_name, indexes_of, to_table

StepHook = Callable[[str], None]


class MigrationFailed(BanyanError):
    """A table change could not be applied; the deploy's transaction is rolled back."""
    code, status, namespace = "migration_failed", 409, "deploy"


def apply_changes(conn: Connection, old: Mapping[str, TableSpec], new: Mapping[str, TableSpec],
                  changes: list[Change], on_step: StepHook | None = None) -> None:
    step = on_step or (lambda _msg: None)
    if conn.dialect.name == "sqlite":
        _SqliteApplier(conn, old, new, step).apply(changes)
    else:
        _PostgresApplier(conn, old, new, step).apply(changes)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Applier:
    def __init__(self, conn: Connection, old, new, step: StepHook):
        self.conn, self.old, self.new, self.step = conn, old, new, step
        self.md = sa.MetaData(naming_convention=NAMING)
        self.tables = {n: to_table(s, self.md, with_fk=self.inline_fks) for n, s in new.items()}
        self.dialect = conn.dialect.name

    inline_fks = True

    def run(self, sql: str) -> None:
        self.conn.exec_driver_sql(sql)

    def col_ddl(self, table: str, col: ColumnSpec) -> str:
        return str(CreateColumn(self.tables[table].c[col.name]).compile(dialect=self.conn.dialect))


class _SqliteApplier(_Applier):
    def apply(self, changes: list[Change]) -> None:
        by_entity: dict[str, list[Change]] = {}
        for c in changes:
            by_entity.setdefault(c.entity, []).append(c)
        for entity, group in sorted(by_entity.items()):
            kinds = {c.action for c in group}
            if CREATE_TABLE in kinds:
                self.step(f"create table e_{entity}")
                self.tables[entity].create(self.conn)
            elif DROP_TABLE in kinds:
                self.step(f"drop table e_{entity}")
                self.run(f"DROP TABLE {_q('e_' + entity)}")
            elif kinds == {ADD_COLUMN} and not any(c.new.unique or c.new.kind == "enum" for c in group):
                # plain nullable columns: ALTER is enough (a UNIQUE or CHECK needs the rebuild)
                for c in group:
                    self.step(f"add column e_{entity}.{c.column}")
                    self.run(f"ALTER TABLE {_q('e_' + entity)} ADD COLUMN {self.col_ddl(entity, c.new)}")
                    if c.new.index or c.new.kind == "ref":
                        self.run(f"CREATE INDEX {_q(index_name('e_' + entity, c.column))} "
                                 f"ON {_q('e_' + entity)} ({_q(c.column)})")
            else:
                self.rebuild(entity)

    def rebuild(self, entity: str) -> None:
        self.step(f"rebuild table e_{entity}")
        old, new = self.old[entity], self.new[entity]
        temp = f"e_{entity}__rebuild"
        to_table(new, self.md, name=temp, with_indexes=False).create(self.conn)
        cols, exprs = ["id", "version", "created_at", "updated_at"], ["id", "version", "created_at", "updated_at"]
        for col in new.columns:
            prev = old.column(col.name)
            expr = carry_expression(prev, col, _q(col.name), "sqlite") if prev is not None else None
            if expr is not None:
                cols.append(_q(col.name))
                exprs.append(expr)
        self.run(f"INSERT INTO {_q(temp)} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {_q('e_' + entity)}")
        self.run(f"DROP TABLE {_q('e_' + entity)}")
        self.run(f"ALTER TABLE {_q(temp)} RENAME TO {_q('e_' + entity)}")
        for idx in indexes_of(new, self.tables[entity]):
            self.conn.execute(CreateIndex(idx))


class _PostgresApplier(_Applier):
    inline_fks = False

    def apply(self, changes: list[Change]) -> None:
        created = [c.entity for c in changes if c.action == CREATE_TABLE]
        for c in changes:
            if c.action == DROP_TABLE:
                self.step(f"drop table e_{c.entity}")
                self.run(f"DROP TABLE {_q('e_' + c.entity)} CASCADE")
        for name in created:
            self.step(f"create table e_{name}")
            self.tables[name].create(self.conn)
            seq = _q(f"e_{name}_id_seq")
            self.run(f"CREATE SEQUENCE {seq} OWNED BY {_q('e_' + name)}.id")
        for name in created:
            for col in self.new[name].columns:
                if col.kind == "ref":
                    self.add_fk(name, col)
        for c in changes:
            if c.action == ADD_COLUMN:
                self.step(f"add column e_{c.entity}.{c.column}")
                self.run(f"ALTER TABLE {_q('e_' + c.entity)} ADD COLUMN {self.col_ddl(c.entity, c.new)}")
                self.add_constraints(c.entity, c.new)
            elif c.action == DROP_COLUMN:
                self.step(f"drop column e_{c.entity}.{c.column}")
                self.run(f"ALTER TABLE {_q('e_' + c.entity)} DROP COLUMN {_q(c.column)}")
            elif c.action == ALTER_COLUMN:
                self.step(f"alter column e_{c.entity}.{c.column}")
                self.alter(c)

    def alter(self, c: Change) -> None:
        table = "e_" + c.entity
        for name in (f"ck_{table}_{c.column}", f"uq_{table}_{c.column}", f"fk_{table}_{c.column}"):
            self.run(f"ALTER TABLE {_q(table)} DROP CONSTRAINT IF EXISTS {_q(name)}")
        self.run(f"DROP INDEX IF EXISTS {_q(index_name(table, c.column))}")
        expr = carry_expression(c.old, c.new, _q(c.column), "postgresql")
        if c.delta.type_change == RETYPE or expr is None:
            self.run(f"ALTER TABLE {_q(table)} DROP COLUMN {_q(c.column)}")
            self.run(f"ALTER TABLE {_q(table)} ADD COLUMN {self.col_ddl(c.entity, c.new)}")
        else:
            type_sql = self.tables[c.entity].c[c.column].type.compile(dialect=self.conn.dialect)
            self.run(f"ALTER TABLE {_q(table)} ALTER COLUMN {_q(c.column)} TYPE {type_sql} "
                     f"USING ({expr})::{type_sql}")
        self.add_constraints(c.entity, c.new)

    def add_constraints(self, entity: str, col: ColumnSpec) -> None:
        table = "e_" + entity
        if col.kind == "enum":
            self.run(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(f'ck_{table}_{col.name}')} CHECK ({enum_check(col)})")
        if col.unique:
            self.run(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(f'uq_{table}_{col.name}')} UNIQUE ({_q(col.name)})")
        if col.kind == "ref":
            self.add_fk(entity, col)
        if (col.index or col.kind == "ref") and not col.unique:
            self.run(f"CREATE INDEX {_q(index_name(table, col.name))} ON {_q(table)} ({_q(col.name)})")

    def add_fk(self, entity: str, col: ColumnSpec) -> None:
        table = "e_" + entity
        self.run(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(f'fk_{table}_{col.name}')} FOREIGN KEY ({_q(col.name)}) "
                 f"REFERENCES {_q('e_' + col.ref)} (id) DEFERRABLE INITIALLY DEFERRED")
