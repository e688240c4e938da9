"""Building each node type of a Flow: one builder per `type:`, chosen through NODE_BUILDERS."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Mapping

from dsl.diagnostics import a, did_you_mean
from dsl.expr.ast import ListLit
from dsl.expr.types import BOOL, FieldInfo, ListType
from dsl.ir import Label
from dsl.kinds.actions import build_actions
from dsl.kinds.flow.ir import (
    DEFAULT_REASONS,
    INITIATOR,
    ActionNode,
    ApprovalNode,
    BranchNode,
    Case,
    Countersign,
    EndNode,
    Escalation,
    FieldAccess,
    InclusiveNode,
    JoinNode,
    Node,
    ParallelNode,
    Reminders,
    TaskNode,
    Timing,
)
from dsl.kinds.flow.steps import build_subflow, build_wait
from dsl.kinds.parts import check_role_calls, compile_assignees, duration_at, get
from dsl.link import LinkContext
from dsl.loader import Document, Path

_APPROVAL_ONLY = {"approve", "reject", "add_signer", "remove_signer"}
_DEFAULT_ACTIONS = {"task": ("complete", "return", "transfer", "delegate", "urge", "cc", "comment"),
                    "approval": ("approve", "reject", "return", "transfer", "delegate", "urge", "cc", "comment")}


@dataclass
class FlowScope:
    """What every node builder needs: the document, the link context, the expression scope."""

    doc: Document
    ctx: LinkContext
    scope: Mapping[str, FieldInfo]
    ids: list[str]
    subject: str | None
    form_fields: Mapping[str, FieldInfo]

    def target(self, path: Path, what: str = "node") -> str | None:
        """The node id written at path; reported (BNY501) when the flow has no such node."""
        name = get(self.doc.data, path)
        if isinstance(name, str) and name not in self.ids:
            self.ctx.diags.add("BNY501", f"unknown {what} `{name}`", self.doc.span(path),
                               did_you_mean(name, self.ids) or f"nodes of this flow: {', '.join(self.ids)}")
        return name if isinstance(name, str) else None

    def required_target(self, path: Path, what: str = "node") -> str:
        """`target` where the schema requires a node id, so one is written (documents are built checked)."""
        name = self.target(path, what)
        assert name is not None, f"the schema requires a node id at {path}"
        return name

    def assignees(self, path: Path):
        check_role_calls(self.ctx, self.doc, path)
        return compile_assignees(self.ctx, self.doc, path, self.scope)

    def condition(self, path: Path):
        return self.ctx.expr(self.doc, path, self.scope, BOOL)


def timing(fs: FlowScope, n: dict, path: Path) -> Timing:
    doc, ctx = fs.doc, fs.ctx
    has_deadline = "deadline" in n
    for key in ("reminders", "escalation", "on_timeout"):
        if key in n and not has_deadline and not (key == "reminders" and "every" in n[key] and "before" not in n[key]):
            ctx.diags.add("BNY204", f"`{key}` needs a `deadline` on the same step", doc.key_span(path + (key,)),
                          "add e.g. `deadline: 2 business days`")
    r = n.get("reminders")
    reminders = Reminders(duration_at(doc, path + ("reminders", "before")), duration_at(doc, path + ("reminders", "every")),
                          r.get("max"), tuple(r.get("channels") or ())) if r else None
    for j, ch in enumerate((r or {}).get("channels") or []):
        ctx.resolve("Channel", ch, doc, path + ("reminders", "channels", j))
    levels = []
    for i, e in enumerate(n.get("escalation") or []):
        epath = path + ("escalation", i)
        for j, ch in enumerate(e.get("channels") or []):
            ctx.resolve("Channel", ch, doc, epath + ("channels", j))
        after = duration_at(doc, epath + ("after",))
        assert after is not None                  # required, and its form checked, by the schema
        levels.append(Escalation(after, fs.assignees(epath + ("to",)),
                                 e.get("action", "notify"), tuple(e.get("channels") or ()), doc.span(epath)))
    on_timeout, goto = n.get("on_timeout"), None
    if isinstance(on_timeout, dict):
        goto, on_timeout = fs.target(path + ("on_timeout", "goto")), "goto"
    if on_timeout in ("auto_approve", "auto_reject") and n["type"] != "approval":
        ctx.diags.add("BNY407", f"`on_timeout: {on_timeout}` applies only to an approval step",
                      doc.span(path + ("on_timeout",)), "use remind, escalate or {goto: node}")
    human = n["type"] in ("task", "approval")
    if levels and on_timeout != "escalate" and (not human or n.get("if_no_assignee") == "fail"):
        ctx.diags.add("BNY407", "`escalation` has no effect here: nothing escalates this step (`on_timeout` is not "
                                "escalate" + (", `if_no_assignee` is fail)" if human else ")"),
                      doc.key_span(path + ("escalation",)), "add `on_timeout: escalate`, or remove `escalation`")
    if on_timeout == "escalate" and not levels:
        ctx.diags.add("BNY204", "`on_timeout: escalate` needs an `escalation` list", doc.span(path + ("on_timeout",)),
                      "add `escalation: [{after: 1d, to: \"role('branch_head', subject.lead_branch)\"}]`")
    cc = fs.assignees(path + ("cc",)) if "cc" in n else None
    return Timing(duration_at(doc, path + ("deadline",)), reminders, tuple(levels), on_timeout, goto, cc)


def _field_access(fs: FlowScope, n: dict, path: Path) -> FieldAccess:
    spec = n.get("fields") or {}
    seen: dict[str, str] = {}
    for key in ("editable", "readonly", "hidden", "required"):
        for j, name in enumerate(spec.get(key) or []):
            fpath = path + ("fields", key, j)
            if name not in fs.form_fields:
                fs.ctx.diags.add("BNY404", f"`{name}` names no field of the flow's form", fs.doc.span(fpath),
                                 did_you_mean(name, fs.form_fields) or ("the flow has no `form`" if not fs.form_fields else None))
                continue
            if key != "required" and name in seen:
                fs.ctx.diags.add("BNY407", f"field `{name}` is both {seen[name]} and {key}", fs.doc.span(fpath),
                                 "list each field once among editable, readonly and hidden")
            elif key == "required" and seen.get(name) in ("readonly", "hidden"):
                fs.ctx.diags.add("BNY407", f"field `{name}` is required but {seen[name]}", fs.doc.span(fpath),
                                 "a required field must be editable")
            seen.setdefault(name, key)
    return FieldAccess(*(tuple(spec.get(k) or ()) for k in ("editable", "readonly", "hidden", "required")))


def _task(fs: FlowScope, n: dict, path: Path, next_id: str | None) -> TaskNode:
    kind = n["type"]
    actions = tuple(n.get("actions") or _DEFAULT_ACTIONS[kind])
    for j, act in enumerate(n.get("actions") or []):
        wrong = (kind == "task" and act in _APPROVAL_ONLY) or (kind == "approval" and act == "complete")
        if wrong:
            fs.ctx.diags.add("BNY407", f"`{act}` does not apply to {a(kind)} step", fs.doc.span(path + ("actions", j)),
                             "approve/reject/add_signer/remove_signer belong to approvals; complete to tasks")
    return_to = tuple(t for j, t in enumerate(n.get("return_to") or [])
                      if t == INITIATOR or fs.target(path + ("return_to", j)))
    common = dict(id=n["id"], type=kind, label=Label.of(n.get("label")), next=next_id, span=fs.doc.span(path),
                  timing=timing(fs, n, path), assignees=fs.assignees(path + ("assignees",)), actions=actions,
                  fields=_field_access(fs, n, path), if_no_assignee=n.get("if_no_assignee", "escalate"),
                  if_initiator=n.get("if_initiator"), return_to=return_to, resubmit=n.get("resubmit"),
                  reason_required=tuple(n.get("reason_required", DEFAULT_REASONS)))
    _no_effect(fs, n, path, actions)
    _initiator_alone(fs, n, path, common["assignees"])
    if kind == "task":
        return TaskNode(**common)
    on_reject = fs.target(path + ("on_reject",)) if "on_reject" in n else None
    return ApprovalNode(**common, countersign=_countersign(fs, n, path, common["assignees"]), on_reject=on_reject,
                        added_signer_reject=n.get("added_signer_reject", "back_to_adder"))


def _no_effect(fs: FlowScope, n: dict, path: Path, actions: tuple[str, ...]) -> None:
    """A key written on a human step where nothing can use it is refused (BNY407): the author
    believes it does something. (Keys of another node type are refused by the schema.)"""
    reasons: list[tuple[str | tuple[str, int] | tuple[str, str], str, str]] = []
    if "return_to" in n and "return" not in actions:
        reasons.append(("return_to", "the step does not offer `return`", "add `return` to `actions`, or remove "
                                                                          "`return_to`"))
    if "resubmit" in n and (INITIATOR not in (n.get("return_to") or ()) or "return" not in actions):
        reasons.append(("resubmit", "nothing returns from this step to the initiator",
                        "add `initiator` to `return_to`, or remove `resubmit`"))
    for j, act in enumerate(n.get("reason_required") or []):
        if act not in actions:
            reasons.append((("reason_required", j), f"the step does not offer `{act}`",
                            f"add `{act}` to `actions`, or remove it from `reason_required`"))
    if "added_signer_reject" in n and "add_signer" not in actions:
        reasons.append(("added_signer_reject", "the step does not offer `add_signer`",
                        "add `add_signer` to `actions`, or remove `added_signer_reject`"))
    if "on_reject" in n and "reject" not in actions and n.get("on_timeout") != "auto_reject":
        reasons.append(("on_reject", "nothing can reject this step (no `reject` action, no `on_timeout: "
                                     "auto_reject`)", "add `reject` to `actions`, or remove `on_reject`"))
    r = n.get("reminders")
    if isinstance(r, dict) and "max" in r and "every" not in r and n.get("on_timeout") != "remind":
        reasons.append((("reminders", "max"), "only repeated reminders (`every`, or `on_timeout: remind`) "
                                              "can be limited", "add `every: 1d`, or remove `max`"))
    for key, why, hint in reasons:
        kpath = path + (key if isinstance(key, tuple) else (key,))
        what = kpath[-1] if isinstance(kpath[-1], str) else f"{kpath[-2]}: {get(fs.doc.data, kpath)}"
        span = fs.doc.key_span(kpath) if isinstance(kpath[-1], str) else fs.doc.span(kpath)
        fs.ctx.diags.add("BNY407", f"`{what}` has no effect here: {why}", span, hint)


def _initiator_alone(fs: FlowScope, n: dict, path: Path, assignees) -> None:
    """A warning for `if_initiator: skip` where the initiator may be the only assignee: four eyes
    do not let the step pass unapproved, so it goes to the initiator's supervisor instead."""
    if n.get("if_initiator") != "skip" or fixed_signers(assignees) != 1:
        return
    fs.ctx.diags.add("BNY407", f"`if_initiator: skip` on step `{n['id']}` with a single assignee: when that is the "
                               "initiator, the step goes to their supervisor, it is not skipped",
                     fs.doc.span(path + ("if_initiator",)),
                     "write `if_initiator: supervisor` to say so, or name more assignees", severity="warning")


def fixed_signers(expr: Any) -> int | None:
    """How many people an assignee expression gives at most, when the text says so: one for a
    single user (`form.reviewer`, `initiator.supervisor`), N for a list of N single users; None for
    a role or any other list (known only when the step opens)."""
    checked = getattr(expr, "checked", None)
    if checked is None:
        return None
    root = checked.root
    items = root.items if isinstance(root, ListLit) else (root,)
    for item in items:
        info = checked.info.get(item)
        if info is None or isinstance(info.type, ListType) or info.type.name in ("any", "null"):
            return None
    return len(items)


def _countersign(fs: FlowScope, n: dict, path: Path, assignees: Any = None) -> Countersign | None:
    c = n.get("countersign")
    if c is None:
        return None
    cpath = path + ("countersign",)
    mode, ratio = c["mode"], None
    if mode == "ratio":
        if "pass" not in c:
            fs.ctx.diags.add("BNY509", "a ratio countersign needs `pass`", fs.doc.key_span(cpath + ("mode",)),
                             "add e.g. `pass: 2/3` (two of three signers) or `pass: 60%`")
        else:
            ratio = parse_ratio(c["pass"])
            if ratio is None or not 0 < ratio <= 1:
                fs.ctx.diags.add("BNY509", f"`pass: {c['pass']}` is not a share between 0 and 1",
                                 fs.doc.span(cpath + ("pass",)),
                                 "write a fraction such as 2/3, or a percentage such as 60%")
                ratio = None
            else:                 # veto holders join the signers, so their number is known only then
                _near_fraction(fs, cpath + ("pass",), c["pass"], ratio,
                               fixed_signers(assignees) if "veto" not in c else None)
    elif "pass" in c:
        fs.ctx.diags.add("BNY509", f"`pass` applies only to `mode: ratio`, not {mode}", fs.doc.key_span(cpath + ("pass",)),
                         "remove `pass`, or use `mode: ratio`")
    veto, veto_roles = c.get("veto"), ()
    veto_expr = None
    if isinstance(veto, list):
        veto_roles = tuple(r for j, r in enumerate(veto) if fs.ctx.resolve("Role", r, fs.doc, cpath + ("veto", j)))
    elif isinstance(veto, str):
        veto_expr = fs.assignees(cpath + ("veto",))
    if mode in ("any",) and veto is not None:
        fs.ctx.diags.add("BNY509", "a veto means nothing when any one signer decides", fs.doc.key_span(cpath + ("veto",)),
                         "use mode all, ratio or sequential, or remove `veto`")
    return Countersign(mode, ratio, veto_roles, veto_expr, fs.doc.span(cpath))


def near_fraction(ratio: Fraction, signers: int | None = None) -> tuple[Fraction, int, int, int] | None:
    """For a share written as a percentage or decimal: the simple fraction (denominator up to 12)
    within one percentage point that it is not, and a number of signers where the two need a
    different number of approvals — (fraction, signers, approvals under `ratio`, approvals under
    the fraction). With `signers` known, only that number is tried. None: no such neighbour."""
    near = min((Fraction(p, q) for q in range(2, 13) for p in range(1, q)), key=lambda f: abs(f - ratio))
    if near == ratio or abs(near - ratio) >= Fraction(1, 100):
        return None
    for count in ([signers] if signers else range(near.denominator, 1000)):
        need, need_near = -(-ratio * count // 1), -(-near * count // 1)
        if need != need_near:
            return near, count, int(need), int(need_near)
    return None


def _near_fraction(fs: FlowScope, path: Path, written: Any, ratio: Fraction, signers: int | None) -> None:
    """BNY509 as a warning: `pass: 67%` (or 0.67) beside 2/3 — counted exactly, they differ."""
    if "/" in str(written):
        return
    found = near_fraction(ratio, signers)
    if found is None:
        return
    near, count, need, need_near = found
    among = f"with the {count} signers named" if signers else f"with {count} signers"
    fs.ctx.diags.add("BNY509", f"`pass: {written}` is not {near}: {among} it needs {need} approval(s), "
                               f"{near} would need {need_near}", fs.doc.span(path),
                     f"write `pass: {near}` if that is what you mean; a percentage or decimal is counted exactly",
                     severity="warning")


def parse_ratio(value: Any) -> Fraction | None:
    """2/3, 67%, 0.67 or 1 as a fraction; None when it is none of these."""
    text = str(value).strip()
    try:
        if text.endswith("%"):
            return Fraction(text[:-1].strip()) / 100
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def _cases(fs: FlowScope, n: dict, path: Path) -> tuple[Case, ...]:
    out = []
    for i, c in enumerate(n["cases"]):
        cpath = path + ("cases", i)
        when = fs.condition(cpath + ("when",)) if "when" in c else None
        out.append(Case(when, fs.required_target(cpath + ("goto",)), Label.of(c.get("label")), fs.doc.span(cpath)))
    return tuple(out)


def _branch(fs: FlowScope, n: dict, path: Path, next_id: str | None) -> Node:
    cases = _cases(fs, n, path)
    default = fs.target(path + ("default",)) if "default" in n else None
    base = dict(id=n["id"], type=n["type"], label=Label.of(n.get("label")), next=None, span=fs.doc.span(path),
                cases=cases, default=default)
    if n["type"] == "branch":
        return BranchNode(**base)
    return InclusiveNode(**base, join=fs.required_target(path + ("join",), "join node"))


def _parallel(fs: FlowScope, n: dict, path: Path, next_id: str | None) -> ParallelNode:
    branches = tuple(fs.required_target(path + ("branches", j)) for j in range(len(n["branches"])))
    return ParallelNode(n["id"], "parallel", Label.of(n.get("label")), None, fs.doc.span(path), branches,
                        fs.required_target(path + ("join",), "join node"))


def _join(fs: FlowScope, n: dict, path: Path, next_id: str | None) -> JoinNode:
    return JoinNode(n["id"], "join", Label.of(n.get("label")), next_id, fs.doc.span(path), n.get("wait", "all"))


def _action(fs: FlowScope, n: dict, path: Path, next_id: str | None) -> ActionNode:
    acts = build_actions(fs.doc, fs.ctx, path + ("do",), fs.scope, fs.subject, fs.form_fields)
    return ActionNode(n["id"], "action", Label.of(n.get("label")), next_id, fs.doc.span(path), acts)


def _end(fs: FlowScope, n: dict, path: Path, next_id: str | None) -> EndNode:
    acts = build_actions(fs.doc, fs.ctx, path + ("do",), fs.scope, fs.subject, fs.form_fields) if "do" in n else ()
    return EndNode(n["id"], "end", Label.of(n.get("label")), None, fs.doc.span(path), n.get("outcome", "done"), acts,
                   n.get("terminate", True))


NODE_BUILDERS: dict[str, Callable[[FlowScope, dict, Path, str | None], Node]] = {
    "task": _task, "approval": _task, "branch": _branch, "inclusive": _branch, "parallel": _parallel,
    "join": _join, "subflow": lambda fs, n, p, nx: build_subflow(fs, n, p, nx, timing(fs, n, p)),
    "wait": lambda fs, n, p, nx: build_wait(fs, n, p, nx, timing(fs, n, p)),
    "action": _action, "end": _end,
}
