"""A decision table checked where it is written, by the interval analysis the flow verifier uses
for branch cases (`dsl.expr.cases`: each condition split into atoms over one value, every
combination of representative values evaluated with the null rules) — as IBM ODM, TIBCO and SAP
BRFplus check their tables:

- BNY603: some subject gets no tier (no rule holds for a value the message names). A rule with
  no `when` holds always, so a catch-all at the end closes every gap.
- BNY609: two rules hold for the same subject where the hit policy forbids it — `unique` (no two
  rules may hold together) and `any` (rules that hold together must give the same tier).
- BNY610 (a warning): a condition the analysis cannot see into (a comparison of two values, a
  call that is not a number); it is named, and gaps and overlaps are then not claimed."""
from __future__ import annotations

from typing import Any, Mapping

from dsl.expr.cases import opaque_atoms, overlapping, uncovered
from dsl.expr.types import FieldInfo
from dsl.kinds.parts import spec_of
from dsl.link import LinkContext
from dsl.loader import Document

ALWAYS = "true"


def check_table(doc: Document, ctx: LinkContext, policy: str, scope: Mapping[str, FieldInfo]) -> None:
    rules: list[dict[str, Any]] = [r for r in spec_of(doc)["table"]["rules"] if isinstance(r, dict)]
    texts = [r["when"] if isinstance(r.get("when"), str) else ALWAYS for r in rules]
    path = ("spec", "table", "rules")
    unseen = opaque_atoms(texts, scope, ctx.env)
    if unseen:
        listed = ", ".join(f"`{t}`" for t in dict.fromkeys(unseen))
        ctx.diags.add("BNY610", f"the table's gaps and overlaps cannot be checked: {listed} cannot be analysed",
                      doc.key_span(path), "compare a dimension, field or number with a constant "
                                          "(`risk >= 40`, `industry == 'energy'`) where you can", severity="warning")
        return
    if ALWAYS not in texts:
        gap = uncovered(texts, scope, ctx.env)
        if gap is not None:
            last = len(rules) - 1
            ctx.diags.add("BNY603", f"some subjects get no tier: {gap}", doc.span(path + (last,)),
                          f"add a catch-all rule at the end: `- {{tier: {rules[last].get('tier', '…')}}}`, or "
                          "a rule for those values")
    if policy in ("unique", "any"):
        tiers = [r.get("tier") for r in rules]
        same = (lambda i, j: tiers[i] == tiers[j]) if policy == "any" else (lambda i, j: False)
        found = overlapping(texts, scope, ctx.env, same)
        if found is not None:
            i, j, shown = found
            what = "give different tiers" if policy == "any" else "hold together"
            ctx.diags.add("BNY609", f"rules {i + 1} and {j + 1} {what} {shown} (hit policy `{policy}`)",
                          doc.span(path + (j,)),
                          "narrow one of the conditions, or use hit policy `first` (the first rule that holds) "
                          "or `priority` (the best tier that holds)")
