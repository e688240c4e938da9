"""The Flow kind: approval and work flows (集团统一授信审批, 跨机构服务, 重大风险处置 …).

Expressions in a flow see `subject` (a record of the flow's subject entity), `form` (the
flow's form) and `initiator` (the user who started it). Assignee expressions give users;
`role('name', unit)` selects role holders (see flow_functions)."""
from __future__ import annotations

from dsl.diagnostics import did_you_mean
from dsl.expr.types import ANY, FieldInfo, record
from dsl.kinds.channel import check_flow_messages
from dsl.kinds.flow import functions as flow_functions  # noqa: F401  (registers role())
from dsl.kinds.flow.graph import check_graph
from dsl.kinds.flow.ir import INITIATOR, Flow, TaskNode
from dsl.kinds.flow.nodes import NODE_BUILDERS, FlowScope
from dsl.kinds.flow.schema import SCHEMA
from dsl.kinds.flow.verify import verify_flow
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import check_role_calls, compile_assignees, spec_of
from dsl.kinds.registry import KindDef, register
from dsl.link import BUILTIN_RECORDS, LinkContext
from dsl.loader import Document


def flow_scope(spec: dict, subject: str | None, form: str | None) -> dict[str, FieldInfo]:
    """The names flow expressions see. A subject or form that is written but unknown (already
    reported) is typed `any`, so its uses are not reported a second time."""
    scope = {"initiator": FieldInfo(record("user"), nullable=False)}
    for key, name in (("subject", subject), ("form", form)):
        if name:
            scope[key] = FieldInfo(record(name), nullable=False)
        elif key in spec:
            scope[key] = FieldInfo(ANY, nullable=False)
    return scope


def _build(doc: Document, ctx: LinkContext) -> Flow:
    spec = spec_of(doc)
    subject = spec.get("subject")
    if subject is not None and not ctx.resolve("Entity", subject, doc, ("spec", "subject"), builtins=BUILTIN_RECORDS):
        subject = None
    form = spec.get("form")
    if form is not None and not ctx.resolve(("Form", "Entity"), form, doc, ("spec", "form")):
        form = None
    scope = flow_scope(spec, subject, form)
    for i, r in enumerate(spec.get("roles") or []):
        ctx.resolve("Role", r, doc, ("spec", "roles", i))
    raw = [n for n in spec["nodes"]]
    ids: list[str] = []
    for i, n in enumerate(raw):
        if n["id"] in ids:
            ctx.diags.add("BNY402", f"node id `{n['id']}` is used twice", doc.span(("spec", "nodes", i, "id")),
                          f"the first is node #{ids.index(n['id']) + 1}; give each node its own id")
        if n["id"] == INITIATOR:
            ctx.diags.add("BNY402", f"`{INITIATOR}` cannot be a node id: `return_to: [{INITIATOR}]` means the "
                                    "initiator's edit form", doc.span(("spec", "nodes", i, "id")),
                          "name the node after what it does, e.g. `initiator_review`")
        ids.append(n["id"])
    fs = FlowScope(doc, ctx, scope, list(dict.fromkeys(ids)), subject, ctx.decls.records.get(form, {}) if form else {})
    start = spec["start"]
    who = None
    if "who" in start:
        check_role_calls(ctx, doc, ("spec", "start", "who"))
        who = compile_assignees(ctx, doc, ("spec", "start", "who"), {k: v for k, v in scope.items() if k != "form"})
    first = fs.required_target(("spec", "start", "first")) if "first" in start else raw[0]["id"]
    nodes, built_ids = [], set()
    for i, n in enumerate(raw):
        if n["id"] in built_ids:
            continue
        built_ids.add(n["id"])
        following = raw[i + 1]["id"] if i + 1 < len(raw) else None
        next_id = fs.target(("spec", "nodes", i, "next")) if "next" in n else following
        nodes.append(NODE_BUILDERS[n["type"]](fs, n, ("spec", "nodes", i), next_id))
    _check_joins(doc, ctx, nodes)
    check_graph(doc, ctx, nodes, first)
    verify_flow(doc, ctx, nodes, first, scope)
    check_flow_messages(ctx, doc, nodes)
    if "resubmit" in spec and not any(isinstance(x, TaskNode) and INITIATOR in x.return_to and "return" in x.actions
                                      for x in nodes):
        ctx.diags.add("BNY407", "`resubmit` has no effect here: no step returns the application to the initiator",
                      doc.key_span(("spec", "resubmit")),
                      f"add `return_to: [{INITIATOR}]` to a step that offers `return`, or remove `resubmit`")
    return Flow(metadata_of(doc), subject, form, who, first, tuple(spec.get("roles") or ()), tuple(nodes),
                spec.get("resubmit", "from_returning_step"))


def _check_joins(doc: Document, ctx: LinkContext, nodes) -> None:
    by_id = {n.id: n for n in nodes}
    for i, n in enumerate(doc.data["spec"]["nodes"]):
        if "join" in n and n["type"] in ("parallel", "inclusive"):
            target = by_id.get(n["join"])
            if target is not None and target.type != "join":
                joins = [x.id for x in nodes if x.type == "join"]
                ctx.diags.add("BNY405", f"`{n['join']}` is a {target.type} node, but `join` must name a join node",
                              doc.span(("spec", "nodes", i, "join")),
                              did_you_mean(n["join"], joins) or "add a node with `type: join`")


FLOW = register(KindDef(
    kind="Flow", schema=SCHEMA, order=30, build=_build,
    summary="An approval or work flow: subject, form, who starts it, typed steps (task, approval with countersign, "
            "branch, parallel/join, subflow, wait, action, end), deadlines and escalation.",
    scaffold="""\
spec:
  start: {first: review}
  nodes:
    - id: review
      type: task
      label: {zh: 审核, en: Review}
      assignees: "initiator.supervisor"
      deadline: 2 business days
      on_timeout: remind
      next: done
    - id: done
      type: end
      outcome: done
""",
))
