"""A flow as an SVG picture, pure and offline: `flow_svg(flow, current=(), lang="zh") -> str`.

Layered top to bottom (a node sits one layer below the furthest node leading to it; edges that
go back — returns, on_reject loops — are drawn dashed on the side and do not count), shapes by
node type (task and approval boxes, diamonds for branch ×, inclusive ○, parallel and join +,
a double box for a subflow, a circle for start and end), branch labels on their edges, the
instance's current nodes highlighted. Every text is XML-escaped; nothing is fetched."""
from __future__ import annotations

from typing import Any, Iterable
from xml.sax.saxutils import escape, quoteattr

W, H, GAP_X, GAP_Y, MARGIN = 170, 48, 40, 70, 30
START = "__start__"
FONT = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
COLORS = {"task": "#e8f1fb", "approval": "#e9f7ec", "subflow": "#f3ecfa", "wait": "#fdf6e3", "action": "#f2f2f2",
          "end": "#fbe9e9"}
MARKS = {"branch": "×", "inclusive": "○", "parallel": "+", "join": "+"}


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


def flow_svg(flow: Any, current: Iterable[str] = (), lang: str = "zh") -> str:
    es = edges(flow)
    layer, back = layers(flow, es)
    rows: dict[int, list[str]] = {}
    for n in [START] + [n.id for n in flow.nodes]:
        rows.setdefault(layer[n], []).append(n)
    width = max(len(r) for r in rows.values()) * (W + GAP_X) + 2 * MARGIN + 120
    pos = {}
    for y, names in rows.items():
        span = len(names) * (W + GAP_X) - GAP_X
        for i, name in enumerate(names):
            pos[name] = ((width - 120 - span) / 2 + i * (W + GAP_X) + W / 2, MARGIN + 30 + y * (H + GAP_Y) + H / 2)
    height = MARGIN * 2 + 30 + (max(rows) + 1) * (H + GAP_Y)
    title = flow.meta.label.zh if lang == "zh" else flow.meta.label.en
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" font-size="13">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
             f'<text x="{MARGIN}" y="{MARGIN}" font-size="16" font-weight="bold">{escape(title or flow.name)}</text>']
    for a, b, label, kind in es:
        parts.append(_edge(pos[a], pos[b], label, kind, (a, b) in back))
    nodes = {n.id: n for n in flow.nodes}
    here = set(current)
    parts.append(_shape(pos[START], "start", "", False))
    for nid, node in nodes.items():
        text = (node.label.zh if lang == "zh" else node.label.en) or node.id
        if node.type == "end":
            text = f"{text} ({node.outcome})"
        parts.append(_shape(pos[nid], node.type, text, nid in here, nid))
    parts.append("</svg>")
    return "\n".join(parts)


def _edge(a: tuple[float, float], b: tuple[float, float], label: str, kind: str, is_back: bool) -> str:
    (x1, y1), (x2, y2) = a, b
    color = {"reject": "#c0392b", "timeout": "#d68910"}.get(kind, "#555")
    dash = ' stroke-dasharray="5,4"' if is_back or kind in ("reject", "timeout", "default") else ""
    if is_back or y2 <= y1:
        side = max(x1, x2) + W / 2 + 30
        d = f"M{x1 + W / 2:.0f},{y1:.0f} C{side:.0f},{y1:.0f} {side:.0f},{y2:.0f} {x2 + W / 2:.0f},{y2:.0f}"
        lx, ly = side, (y1 + y2) / 2
    else:
        d = f"M{x1:.0f},{y1 + H / 2:.0f} L{x2:.0f},{y2 - H / 2:.0f}"
        lx, ly = (x1 + x2) / 2 + 4, (y1 + H / 2 + y2 - H / 2) / 2
    out = f'<path d="{d}" fill="none" stroke="{color}" stroke-width="1.3"{dash} marker-end="url(#arrow)"/>'
    if label:
        out += f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="11" fill="#333">{escape(label[:24])}</text>'
    return out


def _shape(p: tuple[float, float], kind: str, text: str, current: bool, nid: str = "") -> str:
    x, y = p
    stroke, sw = ("#e67e22", 3) if current else ("#34495e", 1.2)
    fill = "#fde3c8" if current else COLORS.get(kind, "#ffffff")
    attrs = f'fill="{fill}" stroke="{stroke}" stroke-width="{sw}"'
    g = f'<g data-node={quoteattr(nid)}' + (' class="current"' if current else "") + ">"
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
