"""SVG pictures of an equity tree and of a guarantee circle: pure functions returning a string.

No scripts, no external resources: the output can be inlined in a server-rendered
page or saved as a file.  Every name and id goes through XML escaping.  Large
groups stay readable: an equity tree is cut at ``max_depth`` and shows at most
``max_children`` children per holder (the largest stakes; the rest collapse into
a "+N more" box); a circle picture shows at most ``max_nodes`` firms, those nearest
to the focus firm (within ``radius`` guarantee steps), and says how many it left out.

Nodes in ``hidden`` (firms the viewer may not see) are drawn as anonymous boxes: the
``hidden_label`` text, a dashed outline, and neither their id nor their name anywhere in
the output (nor the amounts of the guarantees they give or receive).
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable, Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

from .equity import EquityGraph
from .guarantee import GuaranteeGraph

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 150, 38, 16, 84, 24
PLAIN, HOT, MUTED = "#44546a", "#c0392b", "#8a94a6"
HIDDEN_LABEL = "其他机构客户"          # "a client of another branch": what an anonymous box says


def _label(node: str, labels: Mapping[str, str] | None, width: int = 11) -> str:
    name = (labels or {}).get(node, node)
    return name if len(name) <= width else name[: width - 1] + "…"


def _path_edges(paths: Iterable[Sequence[str]]) -> set[tuple[str, str]]:
    return {(a, b) for path in paths for a, b in zip(path, path[1:])}


def _document(width: float, height: float, body: list[str], title: str) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12" role="img">'
        f"<title>{escape(title)}</title>"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>'
    )
    return head + "".join(body) + "</svg>"


def _box(x: float, y: float, text: str, sub: str, hot: bool, collapsed: bool = False) -> str:
    """A node's box; `collapsed` (a "+N more" box or an anonymous one) is muted and dashed."""
    stroke = HOT if hot else (MUTED if collapsed else PLAIN)
    dash = ' stroke-dasharray="4 3"' if collapsed else ""
    out = (
        f'<g><rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="5" fill="#fff" '
        f'stroke="{stroke}" stroke-width="{2.5 if hot else 1.2}"{dash}/>'
        f'<text x="{x + BOX_W / 2:.1f}" y="{y + 16:.1f}" text-anchor="middle">{escape(text)}</text>'
    )
    if sub:
        out += (f'<text x="{x + BOX_W / 2:.1f}" y="{y + 30:.1f}" text-anchor="middle" font-size="9" '
                f'fill="{MUTED}">{escape(sub)}</text>')
    return out + "</g>"


def equity_tree_svg(
    equity: EquityGraph,
    root: str,
    *,
    labels: Mapping[str, str] | None = None,
    max_depth: int = 4,
    max_children: int = 8,
    highlight: Iterable[Sequence[str]] = (),
    title: str | None = None,
    hidden: Container[str] = frozenset(),
    hidden_label: str = HIDDEN_LABEL,
) -> str:
    """The holdings below ``root`` as a top-down tree; ``highlight`` paths are drawn in red;
    ``hidden`` nodes are anonymous boxes saying ``hidden_label``."""
    if max_depth < 1 or max_children < 1:
        raise ValueError("max_depth and max_children must be at least 1")

    def name_of(node: str) -> str:
        return _label(node, {node: hidden_label} if node in hidden else labels)

    hot = _path_edges(highlight)
    hot_nodes = {n for e in hot for n in e}
    seen = {root}
    # tree nodes: (key, node id or None for a collapsed box, text, parent key, share, depth)
    tree: list[tuple[int, str | None, str, int, float, int]] = [(0, root, name_of(root), -1, 0.0, 0)]
    children: dict[int, list[int]] = {0: []}
    frontier = [0]
    while frontier:
        nxt = []
        for key in frontier:
            _, node, _, _, _, depth = tree[key]
            assert node is not None                       # collapsed boxes are never expanded
            held = sorted(equity.holdings(node).items(), key=lambda kv: (-kv[1], kv[0]))
            fresh = [(f, s) for f, s in held if f not in seen]
            if not fresh:
                continue
            if depth >= max_depth:
                _append(tree, children, key, None, f"+{len(fresh)} below", 0.0, depth + 1)
                continue
            shown = fresh[:max_children]
            shown += [(f, s) for f, s in fresh[max_children:] if (node, f) in hot]
            for f, s in shown:
                seen.add(f)
                nxt.append(_append(tree, children, key, f, name_of(f), s, depth + 1))
            if len(fresh) > len(shown):
                _append(tree, children, key, None, f"+{len(fresh) - len(shown)} more", 0.0, depth + 1)
        frontier = nxt
    xs: dict[int, float] = {}
    _place(0, children, xs, [0.0])
    depth_max = max(t[5] for t in tree)
    width = max(xs.values()) + BOX_W + 2 * MARGIN
    height = (depth_max + 1) * (BOX_H + GAP_Y) - GAP_Y + 2 * MARGIN
    body = []
    for key, node, _text, parent, share, depth in tree:
        if parent < 0:
            continue
        px, py = xs[parent] + MARGIN + BOX_W / 2, (depth - 1) * (BOX_H + GAP_Y) + MARGIN + BOX_H
        cx, cy = xs[key] + MARGIN + BOX_W / 2, depth * (BOX_H + GAP_Y) + MARGIN
        is_hot = node is not None and (tree[parent][1], node) in hot
        colour = HOT if is_hot else (MUTED if node is None else PLAIN)
        body.append(f'<line x1="{px:.1f}" y1="{py:.1f}" x2="{cx:.1f}" y2="{cy:.1f}" stroke="{colour}" '
                    f'stroke-width="{2.5 if is_hot else 1}" marker-end="url(#arrow)"/>')
        if node is not None:
            body.append(f'<text x="{(px + cx) / 2 + 4:.1f}" y="{(py + cy) / 2:.1f}" font-size="10" '
                        f'fill="{colour}">{share:.1%}</text>')
    for key, node, text, _parent, _share, depth in tree:
        x, y = xs[key] + MARGIN, depth * (BOX_H + GAP_Y) + MARGIN
        anonymous = node in hidden
        sub = node if node is not None and labels and node in labels and not anonymous else ""
        body.append(_box(x, y, text, sub, node in hot_nodes, node is None or anonymous))
    return _document(width, height, body, title or f"Equity tree of {root}")


def _append(tree: list[tuple[int, str | None, str, int, float, int]], children: dict[int, list[int]], parent: int,
            node: str | None, text: str, share: float, depth: int) -> int:
    key = len(tree)
    tree.append((key, node, text, parent, share, depth))
    children.setdefault(parent, []).append(key)
    children[key] = []
    return key


def _place(key: int, children: dict[int, list[int]], xs: dict[int, float], cursor: list[float]) -> None:
    """Tidy layout: leaves take consecutive slots, a parent sits over its children."""
    kids = children.get(key, [])
    if not kids:
        xs[key] = cursor[0]
        cursor[0] += BOX_W + GAP_X
        return
    for k in kids:
        _place(k, children, xs, cursor)
    xs[key] = (xs[kids[0]] + xs[kids[-1]]) / 2


def _ring_order(graph: GuaranteeGraph, firm: str, shown: Sequence[str]) -> list[str]:
    """Firms in the order the guarantees run (depth first from ``firm``, following who each
    firm guarantees), so a circle is drawn as a ring with short arrows between neighbours
    rather than as chords across it."""
    members = set(shown)
    order: list[str] = []
    seen: set[str] = set()
    for start in [firm] + sorted(members):
        stack = [start] if start in members else []
        while stack:
            f = stack.pop()
            if f in seen:
                continue
            seen.add(f)
            order.append(f)
            stack.extend(sorted((b for b in graph.guarantees_given(f) if b in members and b not in seen),
                                reverse=True))
    return order


def guarantee_circle_svg(
    graph: GuaranteeGraph,
    firm: str,
    *,
    labels: Mapping[str, str] | None = None,
    max_nodes: int = 60,
    radius: int = 2,
    highlight: Iterable[Sequence[str]] = (),
    title: str | None = None,
    hidden: Container[str] = frozenset(),
    hidden_label: str = HIDDEN_LABEL,
) -> str:
    """``firm``'s guarantee circle (or its cluster if it is on no circle) on a ring.

    Beyond ``max_nodes`` firms only those within ``radius`` guarantee steps of
    ``firm`` are drawn, nearest first.  Arrows point guarantor -> borrower.
    ``hidden`` firms are anonymous: ``hidden_label``, no id, no amounts on their arrows.
    """
    if max_nodes < 2:
        raise ValueError("max_nodes must be at least 2")
    members = graph.circle_of(firm) or graph.cluster_of(firm) or frozenset([firm])
    shown = sorted(members)
    if len(shown) > max_nodes:
        near = {**graph.chain(firm, "down", radius), **graph.chain(firm, "up", radius)}
        ranked = sorted((len(p), f) for f, p in near.items() if f in members)
        shown = sorted([firm] + [f for _, f in ranked[: max_nodes - 1]])
    shown = _ring_order(graph, firm, shown)
    hot = _path_edges(highlight)
    hot_nodes = {n for e in hot for n in e} | {firm}
    r = max(120.0, len(shown) * (BOX_W * 0.42) / math.pi)
    cx = cy = r + BOX_W / 2 + MARGIN
    place = {}
    for k, f in enumerate(shown):
        angle = 2 * math.pi * k / len(shown) - math.pi / 2
        place[f] = (cx + r * math.cos(angle), cy + r * math.sin(angle))
    body = []
    shown_set = set(shown)
    for f in shown:
        for b, amount in sorted(graph.guarantees_given(f).items()):
            if b not in shown_set:
                continue
            (x1, y1), (x2, y2) = place[f], place[b]
            d = math.hypot(x2 - x1, y2 - y1) or 1.0
            sx, sy = x1 + (x2 - x1) * 22 / d, y1 + (y2 - y1) * 22 / d
            ex, ey = x2 - (x2 - x1) * 22 / d, y2 - (y2 - y1) * 22 / d
            is_hot = (f, b) in hot
            colour = HOT if is_hot else PLAIN
            if f in hidden or b in hidden:
                tip = f"{hidden_label if f in hidden else f} → {hidden_label if b in hidden else b}"
            else:
                tip = f"{f} → {b}: {amount:,.0f}"
            body.append(f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="{colour}" '
                        f'stroke-width="{2.5 if is_hot else 0.9}" marker-end="url(#arrow)">'
                        f"<title>{escape(tip)}</title></line>")
    for f in shown:
        x, y = place[f]
        anonymous = f in hidden
        colour = HOT if f in hot_nodes else (MUTED if anonymous else PLAIN)
        dash = ' stroke-dasharray="4 3"' if anonymous else ""
        name, tip = (_label(f, {f: hidden_label}), hidden_label) if anonymous else (_label(f, labels), f)
        body.append(f'<g><circle cx="{x:.1f}" cy="{y:.1f}" r="18" fill="#fff" stroke="{colour}" '
                    f'stroke-width="{2.5 if f in hot_nodes else 1.2}"{dash}><title>{escape(tip)}</title></circle>'
                    f'<text x="{x:.1f}" y="{y + 32:.1f}" text-anchor="middle">{escape(name)}</text></g>')
    size = 2 * cx
    note = f"{len(shown)} of {len(members)} firms shown" if len(shown) < len(members) else f"{len(members)} firms"
    body.append(f'<text x="{MARGIN}" y="{MARGIN}" fill="{MUTED}" data-note={quoteattr(note)}>{escape(note)}</text>')
    return _document(size, size, body, title or f"Guarantee circle of {firm}")
