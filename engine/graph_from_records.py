"""Build a GraphSnapshot from entity records (dicts keyed by the shipped field names).

The shipped data model (configs/entities) holds equity as `equity_holding` rows (holder
company or person → investee, share as a fraction) and guarantees as `guarantee` rows
(guarantor → borrower, amount); a firm's key is its `credit_code`. The runtime reads the
rows; this module only reshapes them, so it stays pure and testable on the demo bank.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .graph import GraphSnapshot

ACTIVE = ("active", None)


def snapshot_from_records(records: Mapping[str, Iterable[Mapping[str, Any]]]) -> GraphSnapshot:
    holdings, persons, agreements = [], set(), []
    for h in records.get("equity_holding", ()):
        holder = h.get("holder_company") or h.get("holder_person")
        if holder is None or h.get("investee") is None or not h.get("share"):
            continue
        if h.get("holder_person"):
            persons.add(holder)
        holdings.append((holder, h["investee"], float(h["share"])))
        if h.get("control_agreement"):
            agreements.append((holder, h["investee"]))
    guarantees = [(g["guarantor"], g["borrower"], float(g.get("amount") or 0))
                  for g in records.get("guarantee", ())
                  if g.get("status") in ACTIVE and g.get("guarantor") and g.get("borrower")]
    companies = list(records.get("company", ()))
    group_of = {c["credit_code"]: c["group"] for c in companies if c.get("group")}
    net_assets = {c["credit_code"]: float(c["net_assets"]) for c in companies if c.get("net_assets") is not None}
    # Close relatives act as one controlling party (CBRC: 主要投资者个人及其近亲属).
    relatives = [(p["person_no"], p["relative_of"]) for p in records.get("person", ()) if p.get("relative_of")]
    persons |= {x for pair in relatives for x in pair}
    return GraphSnapshot(holdings=holdings, guarantees=guarantees, persons=persons, agreements=agreements,
                         relatives=relatives, group_of=group_of, net_assets=net_assets)
