"""What one asker may see of the relationship graph: the org scope (runtime/auth/scope.py)
turned into sets of firm and group keys, asked once per request through the records service.

* a **firm** is shown (named, keyed, drawn) when its company record is readable; any other
  firm the graph knows is *hidden*: counted, its amounts summed, drawn as an anonymous box,
  and `None` where a path or chain passes through it — never its key or name;
* a **person** is shown when their record is readable, or when they hold a share of, or
  control, a firm that is shown (a person is seen through a firm in scope); otherwise
  hidden like a firm;
* a **group** is readable when its record is (members' branches, 协办行), and *led* when it
  is placed in the scope (its lead branch's subtree, 主办行): only a led group's exposure
  is shown.

`Sight(None, None)` (`BANK_WIDE`) sees everything: every function taking a sight
answers exactly as without one. The CLI runs as the operator and passes none.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runtime.auth.scope import Scope

if TYPE_CHECKING:
    from runtime.graph.load import GraphState
    from runtime.records.service import Records


@dataclass
class Sight:
    firms: frozenset[str] | None                 # readable company keys (None: all)
    groups: frozenset[str] | None                # readable group codes (None: all)
    persons: frozenset[str] | None = None        # readable person keys (None: all)
    _person_cache: dict[str, bool] = field(default_factory=dict, repr=False)

    @property
    def bank_wide(self) -> bool:
        return self.firms is None

    def sees_firm(self, key: str) -> bool:
        return self.firms is None or key in self.firms

    def sees_group(self, code: str | None) -> bool:
        return self.groups is None or code in self.groups

    def shows(self, state: "GraphState", node: str | None) -> bool:
        """Whether `node` (a firm or a person of the graph) may be named to the asker."""
        if self.firms is None or node is None:
            return True
        if node in state.names:
            return node in self.firms
        return self._person_shown(state, node)

    def _person_shown(self, state: "GraphState", person: str) -> bool:
        found = self._person_cache.get(person)
        if found is None:
            equity = state.snapshot.equity
            found = (self.persons is None or person in self.persons) or (
                person in equity and (any(f in self.firms for f in equity.holdings(person))
                                      or any(f in self.firms for f in equity.controlled_firms(person))))
            self._person_cache[person] = found
        return found

    def mask(self, state: "GraphState", node: str | None) -> str | None:
        """`node`, or None when it is hidden."""
        return node if self.shows(state, node) else None

    def hidden(self, state: "GraphState") -> "Hidden":
        """The hidden nodes as a container (for the pictures' `hidden` parameter)."""
        return Hidden(self, state)


class Hidden:
    """`node in hidden`: the firms and persons of `state` that `sight` may not name."""

    def __init__(self, sight: Sight, state: "GraphState"):
        self.sight, self.state = sight, state

    def __contains__(self, node: Any) -> bool:
        return isinstance(node, str) and not self.sight.shows(self.state, node)


BANK_WIDE = Sight(None, None)


def sight_of(records: "Records", scope: Scope | None) -> Sight:
    """The asker's sight (one query per entity; none for a bank-wide scope)."""
    if scope is None or scope.units is None:
        return BANK_WIDE
    return Sight(records.keys_within("company", scope), records.keys_within("group", scope),
                 records.keys_within("person", scope))


def leads(records: "Records", scope: Scope | None, code: str) -> bool:
    """Whether group `code` is placed in `scope` (its lead branch's subtree: 主办行)."""
    if scope is None or scope.units is None:
        return True
    return code in (records.keys_within("group", scope, write=True) or ())
