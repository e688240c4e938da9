"""Names, never codes: what a page shows for a `ref` value, a user, an org unit or a role — the
name in the person's language, with the code kept as secondary detail (`code` below).

Labels are read set-based: one call collects every (target, key) a page shows, then one query per
target entity (runtime/records/listing.ref_labels), one for people
(runtime/auth/people.PeopleDirectory), none for org units and roles (the deployed bundle's
OrgTree). Nothing here runs SQL of its own."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from runtime.auth.people import PeopleDirectory
from runtime.records.listing import Labels, ref_labels


@dataclass
class Shown:
    """One value for reading: the text people see, the code behind it when the text is a name
    (shown small, or as a title), a link and a hint (`1.5亿`)."""
    label: str
    text: str
    hint: str = ""
    type: str = ""
    link: str = ""
    code: str = ""


class Names:
    def __init__(self, web: Any):
        self.web = web
        self.directory = PeopleDirectory(web.engine)

    # -- labels ----------------------------------------------------------------------------------
    def labels(self, wanted: Iterable[tuple[str | None, Any]], lang: str) -> Labels:
        """{(target, key): name} for every (target, key) given (runtime/records/listing.ref_labels,
        with the deployed org tree this page already holds)."""
        wanted = list(wanted)
        tree = self.web.tree() if any(t in ("org_unit", "role") for t, _ in wanted) else None
        return ref_labels(self.web.records, wanted, lang, tree=tree, directory=self.directory)

    def role(self, role: str, lang: str) -> str:
        r = self.web.tree().roles.get(role)
        return (r.meta.label.text(lang) or role) if r is not None else role

    def people(self, names: Iterable[str | None]) -> dict[str, str]:
        return self.directory.display_names(names)

    # -- records ---------------------------------------------------------------------------------
    @staticmethod
    def refs_of(fields: Iterable[Any], items: Iterable[Mapping[str, Any]]) -> list[tuple[str, Any]]:
        """The (target, key) of every `ref` value of `fields` (IR fields or forms' FieldSpecs, their
        sub-table columns too) in `items`."""
        out: list[tuple[str, Any]] = []
        fields = list(fields)
        for item in items:
            for f in fields:
                ir = _ir(f)
                v = item.get(ir.name)
                if ir.type_name == "ref" and v not in (None, ""):
                    out.append((ir.ref, v))
                columns = getattr(f, "columns", None) or ()
                if columns and isinstance(v, (list, tuple)):
                    out += Names.refs_of(columns, [r for r in v if isinstance(r, Mapping)])
        return out

    def record_labels(self, fields: Iterable[Any], items: Iterable[Mapping[str, Any]], lang: str) -> Labels:
        fields, items = list(fields), list(items)
        return self.labels(self.refs_of(fields, items), lang)

    def sections(self, spec: Any, sections: list, record: Mapping[str, Any], lang: str) -> list:
        """forms/' read view of a record (section, [ReadView]) with each `ref` value as the referenced
        record's name, its key as the code beside it."""
        labels = self.record_labels([f for f in spec.fields if not f.is_table], [record], lang)
        names = [[n for n in sec.fields if spec.field(n) is not None and not spec.field(n).is_table]
                 for sec in spec.sections]             # read_view's order: one ReadView per name
        out = []
        for (label, items), fields in zip(sections, names):
            shown = []
            for it, name in zip(items, fields):
                s = Shown(it.label, it.text, it.hint, it.type, it.link)
                f = spec.field(name)
                found = ref_text(labels, f, record.get(name))
                if found is not None:
                    s.text, s.code = found
                shown.append(s)
            out.append((label, shown))
        return out

def ref_text(labels: Labels, f: Any, value: Any) -> tuple[str, str] | None:
    """(name, code) of a `ref` value with a name in `labels`; None for any other value."""
    f = _ir(f)
    if f.type_name != "ref" or value in (None, ""):
        return None
    name = labels.get((f.ref, str(value)))
    return (name, str(value)) if name is not None and name != str(value) else None


def _ir(f: Any) -> Any:
    """The IR field of a forms/ FieldSpec (an IR field as it is)."""
    return f if hasattr(f, "type_name") else f.field
