"""What a batch of alert rules reads, loaded for all its subjects at once: every collection and
reference the rules' expressions reach (`CompiledExpr.paths`: `collaterals.valuations.value`,
`transactions.counterparty_company.group`), one query per (entity, link) and level for the whole
batch, so no expression reads a record on its own during the evaluation.

The scan's loader reads of a collection's records only the columns the rules can name
(`columns_read`: every field of the entity named anywhere in the rules' expressions, with its id,
link, key, display name and time field; `Loader(columns=…)`): a scan reads the columns its rules
reference, not the rows' every column."""
from __future__ import annotations

from typing import Any, Iterable

from runtime.records.context import Loader, columns_named, expression_texts


def read_paths(rules: Iterable[Any]) -> frozenset[tuple[str, ...]]:
    """The field paths the rules' conditions and evidence read, root name first."""
    out: set[tuple[str, ...]] = set()
    for rule in rules:
        for g in rule.grades:
            out |= set(getattr(g.when, "paths", ()))
        for e in rule.evidence:
            out |= set(getattr(e.value, "paths", ()))
    return frozenset(out)


def _heads(paths: Iterable[tuple[str, ...]]) -> dict[str, set[tuple[str, ...]]]:
    """Paths by their first name: {name: the rest of each path (empty tuples left out)}."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for p in paths:
        if p:
            rest = out.setdefault(p[0], set())
            if len(p) > 1:
                rest.add(p[1:])
    return out


def prime(loader: Loader, entity: str, rows: Iterable[dict], paths: Iterable[tuple[str, ...]]) -> None:
    """Load into `loader` what `paths` reach from the records `rows` of `entity`: a collection's
    records for all of them in one query, a reference's records in one, and so on down the path.
    Fields, `alerts` and context entries (`$graph`) are left to their own loaders."""
    rows = [r for r in rows if r is not None]
    if not rows:
        return
    refs, collections, _empty, _names = loader.meta(entity)
    for name, rest in sorted(_heads(paths).items()):
        if name in collections:
            c = collections[name]
            ids = [r["id"] for r in rows]
            loader.prime(c.entity, c.via, ids)
            if rest:
                prime(loader, c.entity, [child for i in ids for child in loader.children(c.entity, c.via, i)], rest)
        elif name in refs and rest and any(p[0] != "alerts" for p in rest):
            targets = sorted({r[name] for r in rows if r.get(name) is not None})
            found = loader.rows(refs[name], targets)
            prime(loader, refs[name], list(found.values()), rest)


def columns_read(live: Any, entity: str, rules: Iterable[Any]) -> dict[str, frozenset[str]]:
    """For each entity reachable from `entity` through collections: the columns a scan of `rules`
    reads of its records (`columns_named` over every expression the rules hold: their grades,
    evidence and actions)."""
    return columns_named(live, entity, [t for r in rules for t in expression_texts(
        getattr(r, "grades", ()), getattr(r, "evidence", ()), getattr(r, "actions", ()))])
