"""BNY506: does some case of a branch hold for every value? Decided on the expressions' trees by
`dsl.expr.cases.uncovered` (atoms, representative values, the null rules); a combination under
which no case is true is the counterexample the diagnostic names. A value that may be null (an
optional field) matches no case unless a case tests for null; such a branch needs a `default`."""
from __future__ import annotations

from typing import Callable, Mapping

from dsl.expr.cases import uncovered
from dsl.expr.types import FieldInfo
from dsl.kinds.flow.ir import BranchNode, Node
from dsl.link import LinkContext
from dsl.loader import Document


def check_cases(doc: Document, ctx: LinkContext, nodes: list[Node], scope: Mapping[str, FieldInfo],
                node_path: Callable[[str], tuple]) -> None:
    for n in nodes:
        if not isinstance(n, BranchNode) or n.default:
            continue
        path = node_path(n.id)
        raw = doc.data["spec"]["nodes"][path[2]] if len(path) == 3 else {}
        written = raw.get("cases") or []
        if len(written) != len(n.cases) or any(not isinstance(c, dict) or "when" not in c for c in written):
            continue                               # a case without `when` always holds
        if any(c.when is None for c in n.cases):
            continue                               # a condition with errors, reported already
        gap = uncovered([c.when.text for c in n.cases], scope, ctx.env)
        if gap is not None:
            kind = "exclusive" if n.type == "branch" else "inclusive"
            ctx.diags.add("BNY506", f"the cases of {kind} branch `{n.id}` do not cover every value: {gap}",
                          doc.key_span(path + ("cases",)),
                          "add `default: <node>` for the values no case takes (a null value matches no case, "
                          "so an optional field always needs a default)")
