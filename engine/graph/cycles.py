"""Bounded enumeration of simple directed cycles and guarantee chains.

Every simple cycle lies inside one strongly connected component, so the search is
run per component and each cycle is reported once, rooted at its smallest node
(in index order) and only visiting larger nodes.  The length bound keeps the
enumeration polynomial per start node; ``limit`` caps the output on huge circles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def simple_cycles(
    components: Iterable[list[int]],
    out: Callable[[int], Iterable[int]],
    min_length: int,
    max_length: int,
    limit: int,
) -> list[list[int]]:
    if min_length < 2 or max_length < min_length:
        raise ValueError(f"cycle lengths must satisfy 2 <= min_length <= max_length, got {min_length}, {max_length}")
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    found: list[list[int]] = []
    for members in components:
        inside = set(members)
        succ = {x: sorted(y for y in out(x) if y in inside) for x in members}
        for start in sorted(members):
            path = [start]
            on_path = {start}
            stack = [iter(succ[start])]
            while stack:
                for y in stack[-1]:
                    if y == start:
                        if len(path) >= min_length:
                            found.append(list(path))
                            if len(found) >= limit:
                                return found
                    elif y > start and y not in on_path and len(path) < max_length:
                        path.append(y)
                        on_path.add(y)
                        stack.append(iter(succ[y]))
                        break
                else:
                    stack.pop()
                    on_path.discard(path.pop())
    return found


def bfs_paths(start: int, step: Callable[[int], Iterable[int]], max_depth: int | None) -> dict[int, list[int]]:
    """Shortest path from ``start`` to every node reached through ``step``."""
    parent = {start: -1}
    depth = {start: 0}
    frontier = [start]
    while frontier:
        nxt = []
        for x in frontier:
            if max_depth is not None and depth[x] >= max_depth:
                continue
            for y in step(x):
                if y not in parent:
                    parent[y] = x
                    depth[y] = depth[x] + 1
                    nxt.append(y)
        frontier = nxt
    paths: dict[int, list[int]] = {}
    for node in parent:
        if node == start:
            continue
        path = [node]
        while parent[path[-1]] != -1:
            path.append(parent[path[-1]])
        paths[node] = path[::-1]
    return paths
