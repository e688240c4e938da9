"""The physical model of a bundle: one table per Entity, described as plain data.

A `TableModel` is what a deployment stores (as JSON) and what deploys diff: the live model
is read from the database's last deployment, never recompiled. `to_table` turns a spec into
a SQLAlchemy Core `Table` named `e_<entity>`.

Every entity table has a surrogate `id` (BIGINT primary key, allocated by the records
service), `version` (optimistic concurrency), `created_at` and `updated_at`. A `ref(X)`
field is a BIGINT column holding the id of X's row, with a DEFERRABLE foreign key (so
records that point at each other can be written in one transaction). References to the
built-in `org_unit` and `user` hold their names as text until those become tables.
Field columns are nullable: `required` is enforced by the records service, so a deploy can
add a required field to a table that already has rows.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import sqlalchemy as sa

TABLE_PREFIX = "e_"
SYSTEM_COLUMNS = ("id", "version", "created_at", "updated_at")
BUILTIN_REFS = ("org_unit", "user")
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str                       # string | integer | numeric | bool | date | datetime | duration | enum | json | ref
    length: int | None = None       # string / enum: VARCHAR(n); None is TEXT
    precision: int | None = None    # numeric
    scale: int | None = None        # numeric
    values: tuple[str, ...] = ()    # enum
    ref: str | None = None          # ref: the target entity
    unique: bool = False
    index: bool = False


@dataclass(frozen=True)
class TableSpec:
    entity: str
    key: str | None
    columns: tuple[ColumnSpec, ...] = field(default_factory=tuple)

    @property
    def table(self) -> str:
        return TABLE_PREFIX + self.entity

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


TableModel = dict  # entity name -> TableSpec


def column_of(f: Any) -> ColumnSpec:
    """The column an EntityField is stored in."""
    t, common = f.type_name, {"name": f.name, "unique": bool(f.unique), "index": bool(f.index)}
    if t in ("string",):
        return ColumnSpec(kind="string", length=f.max_length, **common)
    if t == "text":
        return ColumnSpec(kind="string", **common)
    if t == "file":
        return ColumnSpec(kind="string", length=500, **common)
    if t == "integer":
        return ColumnSpec(kind="integer", **common)
    if t == "money":
        return ColumnSpec(kind="numeric", precision=20, scale=f.scale if f.scale is not None else 2, **common)
    if t == "percent":
        scale = max(f.scale or 0, 6)
        return ColumnSpec(kind="numeric", precision=scale + 6, scale=scale, **common)
    if t == "number":
        if f.scale is not None:
            return ColumnSpec(kind="numeric", precision=max(20, f.scale + 12), scale=f.scale, **common)
        return ColumnSpec(kind="numeric", **common)
    if t in ("bool", "date", "datetime", "duration"):
        return ColumnSpec(kind=t, **common)
    if t == "enum":
        values = tuple(v.value for v in f.values)
        return ColumnSpec(kind="enum", length=max(32, *(len(v) for v in values)), values=values, **common)
    if t == "multi_enum":
        return ColumnSpec(kind="json", values=tuple(v.value for v in f.values), **common)
    if t == "ref":
        if f.ref in BUILTIN_REFS:
            return ColumnSpec(kind="string", length=100, ref=f.ref, **common)
        return ColumnSpec(kind="ref", ref=f.ref, **common)
    raise ValueError(f"field {f.name}: no column type for `{t}`")


def model_of(bundle: Any) -> TableModel:
    return {name: TableSpec(name, ent.key, tuple(column_of(f) for f in ent.fields))
            for name, ent in bundle.entities.items()}


def model_to_json(model: TableModel) -> str:
    return json.dumps({n: asdict(s) for n, s in sorted(model.items())}, ensure_ascii=False, sort_keys=True)


def model_from_json(text: str) -> TableModel:
    out: TableModel = {}
    for name, spec in json.loads(text).items():
        cols = tuple(ColumnSpec(**{**c, "values": tuple(c["values"])}) for c in spec["columns"])
        out[name] = TableSpec(spec["entity"], spec["key"], cols)
    return out


def sql_type(col: ColumnSpec) -> sa.types.TypeEngine:
    if col.kind in ("string", "enum"):
        return sa.String(col.length) if col.length else sa.Text()
    if col.kind in ("integer", "ref"):
        return sa.BigInteger()
    if col.kind == "numeric":
        return sa.Numeric(col.precision, col.scale, asdecimal=True)
    return {"bool": sa.Boolean(create_constraint=False), "date": sa.Date(), "datetime": sa.DateTime(timezone=True),
            "duration": sa.Interval(), "json": sa.JSON()}[col.kind]


def enum_check(col: ColumnSpec) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in col.values)
    return f'"{col.name}" IN ({quoted})'


def to_column(col: ColumnSpec, table_name: str, *, with_fk: bool = True) -> sa.Column:
    args: list[Any] = []
    if col.kind == "ref" and with_fk:
        args.append(sa.ForeignKey(f"{TABLE_PREFIX}{col.ref}.id", deferrable=True, initially="DEFERRED",
                                  name=f"fk_{table_name}_{col.name}"))
    return sa.Column(col.name, sql_type(col), *args, nullable=True, unique=col.unique or None)


def to_table(spec: TableSpec, metadata: sa.MetaData, *, name: str | None = None,
             with_fk: bool = True, with_indexes: bool = True) -> sa.Table:
    table_name = name or spec.table
    cols = [sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("version", sa.Integer, nullable=False, server_default="1"),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False)]
    cols += [to_column(c, table_name, with_fk=with_fk) for c in spec.columns]
    checks = [sa.CheckConstraint(enum_check(c), name=f"ck_{table_name}_{c.name}")
              for c in spec.columns if c.kind == "enum"]
    table = sa.Table(table_name, metadata, *cols, *checks)
    if with_indexes:
        indexes_of(spec, table)      # an Index attaches itself to its table
    return table


def index_name(table_name: str, column: str) -> str:
    return f"ix_{table_name}_{column}"


def indexes_of(spec: TableSpec, table: sa.Table) -> list[sa.Index]:
    """Indexes for `index: true` fields and for every reference (joins and collections read them)."""
    return [sa.Index(index_name(spec.table, c.name), table.c[c.name])
            for c in spec.columns if (c.index or c.kind == "ref") and not c.unique]


def metadata_for(model: Mapping[str, TableSpec]) -> tuple[sa.MetaData, dict[str, sa.Table]]:
    md = sa.MetaData(naming_convention=NAMING)
    return md, {name: to_table(spec, md) for name, spec in model.items()}
