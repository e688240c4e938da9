"""A flow as an SVG picture, pure and offline: `flow_svg(flow, current=(), lang="zh") -> str`.

Layered top to bottom (a node sits one layer below the furthest node leading to it; edges that
go back — returns, on_reject loops — are drawn dashed on the side and do not count), shapes by
node type (task and approval boxes, diamonds for branch ×, inclusive ○, parallel and join +,
a double box for a subflow, a circle for start and end), branch labels on their edges, the
instance's current nodes highlighted. Given the instance's events (`walked`), its history too:
the steps done (green), rejected (red), the edges taken (solid green, thicker) and the real
end — the end node reached, or, for a request rejected or withdrawn with no end node, an end
mark beside the step where it stopped (so a rejected case never seems to end at "approved").
Every text is XML-escaped; nothing is fetched."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping
from xml.sax.saxutils import escape, quoteattr

W, H, GAP_X, GAP_Y, MARGIN = 170, 48, 40, 70, 30
START = "__start__"
FONT = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
COLORS = {"task": "#e8f1fb", "approval": "#e9f7ec", "subflow": "#f3ecfa", "wait": "#fdf6e3", "action": "#f2f2f2",
          "end": "#fbe9e9"}
MARKS = {"branch": "×", "inclusive": "○", "parallel": "+", "join": "+"}


OUTCOME_WORDS = {"rejected": ("否决", "Rejected"), "withdrawn": ("已撤回", "Withdrawn"),
                 "cancelled": ("已撤销", "Cancelled"), "approved": ("通过", "Approved")}
# events after which a node has passed on along its `next`
PASSED_ON = frozenset({"step_passed", "skipped", "auto_approved", "joined", "subflow_ended", "event_received",
                       "timeout_approved"})


@dataclass
class Walk:
    """An instance's history on its diagram: nodes done, rejected, reached; edges taken; where
    it ended (`end`: the end node reached) and, when it ended without one, `stopped_at` (the
    nodes it stopped at) and `outcome`."""

    done: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    visited: set[str] = field(default_factory=set)
    taken: set[tuple[str, str]] = field(default_factory=set)
    end: str | None = None
    stopped_at: list[str] = field(default_factory=list)
    outcome: str | None = None


def _get(event: Any, key: str) -> Any:
    return event.get(key) if isinstance(event, Mapping) else getattr(event, key, None)


def walked(flow: Any, events: Iterable[Any]) -> Walk:
    """The path an instance took, from its events (engine `Event`s or timeline rows)."""
    nodes = {n.id: n for n in flow.nodes}
    w = Walk()
    last: str | None = None                     # the latest node a person or the engine acted at
    for e in events:
        kind, nid, data = _get(e, "kind"), _get(e, "node"), _get(e, "data") or {}
        node = nodes.get(nid) if nid else None
        if kind == "started":
            w.taken.add((START, flow.first))
        if node is None:
            if kind in ("finished", "cancelled"):
                w.outcome = data.get("outcome")
                w.stopped_at = [last] if last is not None and last in nodes and w.outcome != "approved" else []
            continue
        w.visited.add(nid)
        if kind not in ("task_cancelled", "finished", "cancelled"):
            last = nid
        if kind == "branch":
            w.done.add(nid)
            w.taken.add((nid, str(data.get("goto"))))
        elif kind == "split":
            w.done.add(nid)
            w.taken.update((nid, p) for p in data.get("paths") or ())
        elif kind in PASSED_ON or (kind == "timer" and data.get("timer") == "wait"):
            w.done.add(nid)
            w.rejected.discard(nid)
            if getattr(node, "next", None):
                w.taken.add((nid, node.next))
        elif kind == "action" and node.type == "action":
            w.done.add(nid)
            if node.next:
                w.taken.add((nid, node.next))
        elif kind == "step_rejected":
            w.rejected.add(nid)
            w.done.discard(nid)
            target = getattr(node, "on_reject", None)
            if target:
                w.taken.add((nid, target))
        elif kind == "timer" and data.get("timer") == "deadline":
            timing = getattr(node, "timing", None)
            if timing is not None and timing.on_timeout == "goto" and timing.timeout_goto:
                w.taken.add((nid, timing.timeout_goto))
        elif kind in ("finished", "cancelled"):
            w.end, w.outcome = nid, data.get("outcome")
            w.done.add(nid)
    w.taken = {(a, b) for a, b in w.taken if b in w.visited}
    return w


def edges(flow: Any) -> list[tuple[str, str, str, str]]:
    """(source, target, label, kind): kind is next | case | default | reject | timeout."""
    out: list[tuple[str, str, str, str]] = [(START, flow.first, "", "next")]
    for n in flow.nodes:
        if hasattr(n, "cases"):
            out += [(n.id, c.goto, c.label.zh or c.label.en or "", "case") for c in n.cases]
            if n.default:
                out.append((n.id, n.default, "", "default"))
        elif hasattr(n, "branches"):
            out += [(n.id, b, "", "next") for b in n.branches]
        elif n.next and n.type != "end":
            out.append((n.id, n.next, "", "next"))
        if getattr(n, "on_reject", None):
            out.append((n.id, n.on_reject, "", "reject"))
        timing = getattr(n, "timing", None)
        if timing is not None and timing.timeout_goto:
            out.append((n.id, timing.timeout_goto, "", "timeout"))
    return out


def layers(flow: Any, es: list[tuple[str, str, str, str]]) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Each node's layer (longest forward path from start) and the back edges."""
    succ: dict[str, list[str]] = {}
    for a, b, _, _ in es:
        succ.setdefault(a, []).append(b)
    back, state = set(), {}
    stack = [(START, iter(succ.get(START, ())))]
    state[START] = 1
    while stack:
        node, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            state[node] = 2
            stack.pop()
        elif state.get(nxt) == 1:
            back.add((node, nxt))
        elif nxt not in state:
            state[nxt] = 1
            stack.append((nxt, iter(succ.get(nxt, ()))))
    layer = {START: 0}
    order = [n for n in _topo(succ, back)]
    for n in order:
        for m in succ.get(n, ()):
            if (n, m) not in back:
                layer[m] = max(layer.get(m, 0), layer.get(n, 0) + 1)
    for n in flow.nodes:
        layer.setdefault(n.id, 0)
    return layer, back


def _topo(succ: dict[str, list[str]], back: set[tuple[str, str]]) -> list[str]:
    indeg: dict[str, int] = {}
    for a, ms in succ.items():
        indeg.setdefault(a, 0)
        for m in ms:
            if (a, m) not in back:
                indeg[m] = indeg.get(m, 0) + 1
    ready = [n for n, d in indeg.items() if d == 0]
    out = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for m in succ.get(n, ()):
            if (n, m) not in back:
                indeg[m] -= 1
                if indeg[m] == 0:
                    ready.append(m)
    return out


def flow_svg(flow: Any, current: Iterable[str] = (), lang: str = "zh", events: Iterable[Any] | None = None) -> str:
    """The diagram; with `events` (the instance's timeline), the path it took and its real end."""
    walk = walked(flow, events) if events is not None else Walk()
    es = edges(flow)
    layer, back = layers(flow, es)
    rows: dict[int, list[str]] = {}
    for n in [START] + [n.id for n in flow.nodes]:
        rows.setdefault(layer[n], []).append(n)
    width = max(len(r) for r in rows.values()) * (W + GAP_X) + 2 * MARGIN + 120 + (W if walk.stopped_at else 0)
    pos = {}
    for y, names in rows.items():
        span = len(names) * (W + GAP_X) - GAP_X
        for i, name in enumerate(names):
            left = (width - 120 - (W if walk.stopped_at else 0) - span) / 2
            pos[name] = (left + i * (W + GAP_X) + W / 2, MARGIN + 30 + y * (H + GAP_Y) + H / 2)
    height = MARGIN * 2 + 30 + (max(rows) + 1) * (H + GAP_Y)
    title = flow.meta.label.zh if lang == "zh" else flow.meta.label.en
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" font-size="13">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
             f'<text x="{MARGIN}" y="{MARGIN}" font-size="16" font-weight="bold">{escape(title or flow.name)}</text>']
    for a, b, label, kind in es:
        parts.append(_edge(pos[a], pos[b], label, kind, (a, b) in back, (a, b) in walk.taken))
    nodes = {n.id: n for n in flow.nodes}
    here = set(current)
    parts.append(_shape(pos[START], "start", "", False, state="done" if walk.taken else ""))
    for nid, node in nodes.items():
        text = (node.label.zh if lang == "zh" else node.label.en) or node.id
        if node.type == "end":                  # the outcome in words, unless the label says it already
            said = OUTCOME_WORDS.get(str(node.outcome))
            said_text = (said[1] if lang == "en" else said[0]) if said else ""   # a flow's own outcome: its label
            if said_text and said_text.lower() not in text.lower():
                text = f"{text}（{said_text}）" if lang != "en" else f"{text} ({said_text})"
        state = "reached" if nid == walk.end else "rejected" if nid in walk.rejected and nid not in here \
            else "done" if nid in walk.done and nid not in here else ""
        parts.append(_shape(pos[nid], node.type, text, nid in here, nid, state))
    for nid in walk.stopped_at:               # ended with no end node: the end it really had, beside its step
        px, py = pos[nid]
        words = OUTCOME_WORDS.get(str(walk.outcome))
        text = (words[1] if lang == "en" else words[0]) if words else str(walk.outcome or "")
        parts.append(f'<path d="M{px + W / 2:.0f},{py:.0f} L{px + W / 2 + 44:.0f},{py:.0f}" fill="none" '
                     f'stroke="#c0392b" stroke-width="2.4" marker-end="url(#arrow)"/>')
        parts.append(f'<g data-node="__end__" class="reached outcome-{escape(str(walk.outcome))}">'
                     f'<circle cx="{px + W / 2 + 62:.0f}" cy="{py:.0f}" r="16" fill="#f5b7b1" stroke="#c0392b" '
                     f'stroke-width="4"/><text x="{px + W / 2 + 84:.0f}" y="{py + 4:.0f}" font-size="12">'
                     f'{escape(text[:30])}</text></g>')
    parts.append("</svg>")
    return "\n".join(parts)


def _edge(a: tuple[float, float], b: tuple[float, float], label: str, kind: str, is_back: bool,
          taken: bool = False) -> str:
    (x1, y1), (x2, y2) = a, b
    color = {"reject": "#c0392b", "timeout": "#d68910"}.get(kind, "#1e8449" if taken else "#555")
    dash = ' stroke-dasharray="5,4"' if (is_back or kind in ("reject", "timeout", "default")) and not taken else ""
    if is_back or y2 <= y1:
        side = max(x1, x2) + W / 2 + 30
        d = f"M{x1 + W / 2:.0f},{y1:.0f} C{side:.0f},{y1:.0f} {side:.0f},{y2:.0f} {x2 + W / 2:.0f},{y2:.0f}"
        lx, ly = side, (y1 + y2) / 2
    else:
        d = f"M{x1:.0f},{y1 + H / 2:.0f} L{x2:.0f},{y2 - H / 2:.0f}"
        lx, ly = (x1 + x2) / 2 + 4, (y1 + H / 2 + y2 - H / 2) / 2
    out = (f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{3 if taken else 1.3}"{dash} '
           f'marker-end="url(#arrow)"' + (' class="taken"' if taken else "") + "/>")
    if label:
        out += f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="11" fill="#333">{escape(label[:24])}</text>'
    return out


SHOWN = {"done": ("#1e8449", 2.2, "#d5f5e3"), "reached": ("#1e8449", 3, "#abebc6"),
         "rejected": ("#c0392b", 2.6, "#f5b7b1")}


def _shape(p: tuple[float, float], kind: str, text: str, current: bool, nid: str = "", state: str = "") -> str:
    x, y = p
    stroke, sw = ("#e67e22", 3) if current else ("#34495e", 1.2)
    fill = "#fde3c8" if current else COLORS.get(kind, "#ffffff")
    if state and not current:
        stroke, sw, fill = SHOWN[state]
    attrs = f'fill="{fill}" stroke="{stroke}" stroke-width="{sw}"'
    classes = " ".join(c for c in ("current" if current else "", state) if c)
    g = f'<g data-node={quoteattr(nid)}' + (f' class="{classes}"' if classes else "") + ">"
    if kind == "start":
        return g + f'<circle cx="{x:.0f}" cy="{y:.0f}" r="14" {attrs}/></g>'
    if kind in MARKS:
        r = 22
        body = (f'<polygon points="{x:.0f},{y - r:.0f} {x + r:.0f},{y:.0f} {x:.0f},{y + r:.0f} {x - r:.0f},{y:.0f}" '
                f'{attrs}/><text x="{x:.0f}" y="{y + 5:.0f}" text-anchor="middle" font-size="16">{MARKS[kind]}</text>'
                f'<text x="{x + r + 6:.0f}" y="{y + 4:.0f}" font-size="12">{escape(text[:20])}</text>')
        return g + body + "</g>"
    if kind == "end":
        body = (f'<circle cx="{x:.0f}" cy="{y:.0f}" r="16" fill="{fill}" stroke="{stroke}" stroke-width="{sw + 2}"/>'
                f'<text x="{x + 24:.0f}" y="{y + 4:.0f}" font-size="12">{escape(text[:30])}</text>')
        return g + body + "</g>"
    rx = 4 if kind in ("subflow", "action") else 10
    box = f'<rect x="{x - W / 2:.0f}" y="{y - H / 2:.0f}" width="{W}" height="{H}" rx="{rx}" {attrs}/>'
    if kind == "subflow":
        box += f'<rect x="{x - W / 2 + 4:.0f}" y="{y - H / 2 + 4:.0f}" width="{W - 8}" height="{H - 8}" rx="2" ' \
               f'fill="none" stroke="{stroke}"/>'
    tag = {"approval": "✔", "wait": "⏱", "action": "⚙", "subflow": "⊞"}.get(kind, "")
    label = f"{tag} {text}".strip()
    return g + box + (f'<text x="{x:.0f}" y="{y + 5:.0f}" text-anchor="middle">{escape(label[:18])}</text></g>')
