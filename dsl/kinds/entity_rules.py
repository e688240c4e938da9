"""Entity semantics: field options that fit their type, references, rules, computed-field order."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dsl.diagnostics import a, did_you_mean
from dsl.expr.types import BOOL
from dsl.ir import Label
from dsl.link import BUILTIN_RECORDS, LinkContext
from dsl.loader import Document
from dsl.patterns import PatternError, compile_pattern

if TYPE_CHECKING:
    from dsl.kinds.entity import Collection, EntityField, Validation

_NUMERIC = {"integer", "number", "money", "percent"}
_ORDERED = _NUMERIC | {"date", "datetime", "duration"}
_TEXTUAL = {"string", "text"}
# option -> the declared types it fits
_OPTION_FITS = {
    "currency": {"money"}, "scale": {"number", "money", "percent"}, "values": {"enum", "multi_enum"},
    "order": {"enum"},
    "min": _ORDERED, "max": _ORDERED, "min_length": _TEXTUAL, "max_length": _TEXTUAL, "pattern": _TEXTUAL,
    "personal": _TEXTUAL,
}


def build_fields(doc: Document, ctx: LinkContext) -> list["EntityField"]:
    from dsl.kinds.entity import EntityField, EnumValue, field_type
    spec = doc.data["spec"]
    scope = ctx.decls.records.get(doc.ref[1], {})
    out: list[EntityField] = []
    seen: dict[str, int] = {}
    for i, f in enumerate(spec["fields"]):
        path = ("spec", "fields", i)
        name = f["name"]
        if name in seen:
            ctx.diags.add("BNY402", f"field `{name}` is declared twice in {doc.name}", doc.span(path + ("name",)),
                          f"the first is field #{seen[name] + 1}; rename or remove one")
            continue
        seen[name] = i
        declared = f["type"]
        type_name = "ref" if declared.startswith("ref(") else declared
        t, ref = field_type(declared, f.get("values"), f.get("order"))
        assert t is not None                      # the schema admits only the types field_type knows
        if ref is not None:
            ctx.resolve("Entity", ref, doc, path + ("type",), builtins=BUILTIN_RECORDS)
        _check_options(doc, ctx, f, path, type_name)
        values = tuple(EnumValue(v if isinstance(v, str) else v["value"],
                                 Label.of(v.get("label") if isinstance(v, dict) else v))
                       for v in f.get("values") or [])
        literal_type = t if type_name in _ORDERED else None
        out.append(EntityField(
            name=name, type_name=type_name, type=t, ref=ref, label=Label.of(f.get("label")),
            help=Label.of(f.get("help")), required=bool(f.get("required", False)),
            required_when=ctx.expr(doc, path + ("required_when",), scope, BOOL) if "required_when" in f else None,
            unique=bool(f.get("unique", False)), index=bool(f.get("index", False)),
            default=_default(doc, ctx, f, path, t, type_name),
            min=ctx.literal(doc, path + ("min",), literal_type) if "min" in f else None,
            max=ctx.literal(doc, path + ("max",), literal_type) if "max" in f else None,
            min_length=f.get("min_length"), max_length=f.get("max_length"), pattern=f.get("pattern"),
            values=values, currency=_fixed_currency(f, type_name), currency_field=_currency_field(f),
            scale=f.get("scale", 2 if type_name == "money" else None),
            compute=ctx.expr(doc, path + ("compute",), scope, t) if "compute" in f else None,
            check=ctx.expr(doc, path + ("check",), scope, BOOL) if "check" in f else None,
            check_message=Label.of(f.get("check_message")), on_hidden=f.get("on_hidden", "clear"),
            span=doc.span(path), personal=_personal(f),
        ))
    _check_currency_fields(doc, ctx, spec["fields"], out)
    return out


def _personal(f: dict) -> str | None:
    """The mask of a personal field (`personal: true` is "generic"); None when it is not personal."""
    kind = f.get("personal")
    if kind is True:
        return "generic"
    return kind if isinstance(kind, str) else None


def _fixed_currency(f: dict, type_name: str) -> str | None:
    currency = f.get("currency", "CNY" if type_name == "money" else None)
    return currency if isinstance(currency, str) else None


def _currency_field(f: dict) -> str | None:
    currency = f.get("currency")
    return currency.get("field") if isinstance(currency, dict) else None


_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


def _check_currency_fields(doc: Document, ctx: LinkContext, raw: list, fields: list["EntityField"]) -> None:
    """`currency: {field: X}`: X is a field of this entity, an enum, stored (not computed), whose
    values are ISO currency codes."""
    by_name = {f.name: f for f in fields}
    for i, f in enumerate(raw):
        name = _currency_field(f)
        if name is None or f.get("type") != "money":
            continue
        at = doc.span(("spec", "fields", i, "currency", "field"))
        target = by_name.get(name)
        if target is None:
            ctx.diags.add("BNY404", f"`currency: {{field: {name}}}` names no field of {doc.name}", at,
                          did_you_mean(name, by_name) or "add an enum field `currency` with the currency codes "
                                                         "(CNY, USD, …) and name it here")
        elif target.type_name != "enum" or target.computed:
            ctx.diags.add("BNY407", f"the currency of `{f['name']}` must come from a stored enum field; "
                                    f"`{name}` is {a(target.type_name)}{' computed' if target.computed else ''} field",
                          at, "name an enum field whose values are currency codes such as CNY, USD")
        else:
            bad = [v.value for v in target.values if not _CURRENCY_CODE.match(v.value)]
            if bad:
                ctx.diags.add("BNY407", f"`{name}` holds {', '.join(f'`{v}`' for v in bad)}, which "
                                        f"{'is not a currency code' if len(bad) == 1 else 'are not currency codes'}",
                              at, "a currency field's values are three-letter ISO codes such as CNY, USD, EUR, HKD")


def _check_options(doc: Document, ctx: LinkContext, f: dict, path, type_name: str) -> None:
    for option, fits in _OPTION_FITS.items():
        if option in f and type_name not in fits:
            ctx.diags.add("BNY407", f"`{option}` does not apply to {a(type_name)} field", doc.key_span(path + (option,)),
                          f"`{option}` fits {', '.join(sorted(fits))} fields; remove it or change the type")
    if type_name in ("enum", "multi_enum"):
        values = [v if isinstance(v, str) else v.get("value") for v in f.get("values") or []]
        if not values:
            ctx.diags.add("BNY406", f"enum field `{f['name']}` has no values", doc.key_span(path + ("type",)),
                          "add `values: [...]` listing the allowed values")
        dupes = sorted({v for v in values if values.count(v) > 1})
        for v in dupes:
            ctx.diags.add("BNY406", f"enum value `{v}` is listed twice", doc.span(path + ("values",)),
                          "each value may appear once")
    if f.get("required") and "required_when" in f:
        ctx.diags.add("BNY407", "`required: true` and `required_when` exclude each other",
                      doc.key_span(path + ("required_when",)), "keep one of them")
    if "compute" in f and ("default" in f or f.get("required")):
        ctx.diags.add("BNY407", "a computed field cannot also have `default` or `required`",
                      doc.key_span(path + ("compute",)), "computed fields are read-only")
    if "pattern" in f and isinstance(f["pattern"], str):
        try:
            compile_pattern(f["pattern"])
        except PatternError as exc:
            ctx.diags.add("BNY208", f"the pattern cannot be used: {exc}", doc.span(path + ("pattern",)),
                          "check brackets and escapes and quote the pattern in YAML; patterns are matched in linear "
                          "time, without backreferences (\\1) or lookaround ((?=…), (?<=…))")
    lo, hi = f.get("min_length"), f.get("max_length")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        ctx.diags.add("BNY209", f"min_length {lo} is greater than max_length {hi}", doc.span(path + ("min_length",)),
                      "swap them")


def _default(doc: Document, ctx: LinkContext, f: dict, path, t, type_name: str):
    if "default" not in f:
        return None
    value = f["default"]
    if type_name in ("enum",):
        allowed = [v if isinstance(v, str) else v.get("value") for v in f.get("values") or []]
        if value not in allowed:
            ctx.diags.add("BNY207", f"default `{value}` is not one of the enum's values",
                          doc.span(path + ("default",)), did_you_mean(str(value), allowed) or
                          f"use one of: {', '.join(map(str, allowed))}")
        return value
    if type_name in _TEXTUAL and path + ("default",) in doc.plain_scalars:
        written = doc.plain_scalars[path + ("default",)]
        ctx.diags.add("BNY106", f"`{written}` is read as a number, but `{f['name']}` is text",
                      doc.span(path + ("default",)), f"quote it: '{written}'")
        return written
    if type_name == "bool" or type_name in _TEXTUAL:
        return value
    return ctx.literal(doc, path + ("default",), t)


def check_collections(doc: Document, ctx: LinkContext) -> list["Collection"]:
    from dsl.kinds.entity import Collection
    out = []
    for i, c in enumerate(doc.data["spec"].get("collections") or []):
        path = ("spec", "collections", i)
        if not ctx.resolve("Entity", c["entity"], doc, path + ("entity",)):
            continue
        target = ctx.decls.records.get(c["entity"], {})
        via = target.get(c["via"])
        if via is None:
            ctx.diags.add("BNY404", f"entity `{c['entity']}` has no field `{c['via']}`", doc.span(path + ("via",)),
                          did_you_mean(c["via"], target) or f"name the field of {c['entity']} that points to {doc.name}")
        elif getattr(via.type, "entity", None) != doc.name:
            ctx.diags.add("BNY405", f"`{c['entity']}.{c['via']}` is a {via.type}, not a ref({doc.name})",
                          doc.span(path + ("via",)), f"name a field of {c['entity']} of type ref({doc.name})")
        out.append(Collection(c["name"], c["entity"], c["via"], Label.of(c.get("label")), doc.span(path)))
    return out


def build_validations(doc: Document, ctx: LinkContext, names: set[str]) -> list["Validation"]:
    from dsl.kinds.entity import Validation
    scope = ctx.decls.records.get(doc.ref[1], {})
    out = []
    for i, v in enumerate(doc.data["spec"].get("validations") or []):
        path = ("spec", "validations", i)
        for j, fname in enumerate(v.get("fields") or []):
            if fname not in names:
                ctx.diags.add("BNY404", f"`{fname}` names no field of {doc.name}", doc.span(path + ("fields", j)),
                              did_you_mean(fname, names))
        rule = ctx.expr(doc, path + ("rule",), scope, BOOL)
        if rule is not None:
            out.append(Validation(rule, Label.of(v.get("message")), tuple(v.get("fields") or ()), doc.span(path)))
    return out


def compute_order(doc: Document, ctx: LinkContext, fields: list["EntityField"]) -> tuple[str, ...]:
    """Computed fields in dependency order; a cycle among them is reported (BNY403)."""
    computed = {f.name: f for f in fields if f.compute is not None}
    deps = {n: sorted(set(f.compute.names) & set(computed)) for n, f in computed.items()}
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(n: str, trail: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            cycle = trail[trail.index(n):] + [n]
            first = computed[cycle[0]]
            ctx.diags.add("BNY403", "computed fields depend on each other: " + " → ".join(cycle),
                          first.compute.span, "compute one of them from stored fields only")
            return
        state[n] = 1
        for d in deps[n]:
            visit(d, trail + [n])
        state[n] = 2
        order.append(n)

    for n in computed:
        visit(n, [])
    return tuple(order)
