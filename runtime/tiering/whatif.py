"""`banyan tier whatif PATH`: a candidate bundle's tiering against the deployed one over today's
records, subject by subject, in the same batches a run reads (engine/tiering/whatif compares).
Nothing is written."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from engine.tiering.whatif import Comparison, compare
from runtime.tiering.service import TierError, TieringService


@dataclass
class WhatIf:
    tiering: Any                 # the deployed tiering
    candidate: Any               # the candidate's
    comparison: Comparison
    names: dict[str, str]        # subject key → its name


def whatif(service: TieringService, bundle: Any, name: str | None = None, *, batch: int = 200,
           progress: Callable[[int], None] | None = None) -> WhatIf:
    live = service.records.refresh()
    deployed = service.tiering(live, name)
    candidate = bundle.documents.get(("Tiering", deployed.name))
    if candidate is None:
        raise TierError(f"the candidate has no tiering `{deployed.name}`", code="unknown_tiering", status=404)
    differ = sorted(n for n, e in bundle.entities.items() if n in live.bundle.entities and
                    {f.name for f in e.fields} != {f.name for f in live.bundle.entities[n].fields})
    if differ or candidate.subject != deployed.subject:
        raise TierError(f"the candidate declares {', '.join(differ) or deployed.subject} differently from the "
                        "deployment: deploy the entity change first, then compare the tiering", code="invalid")
    key = live.model[deployed.subject].key
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    names: dict[str, str] = {}
    ids = service.subject_ids(live, deployed)
    at = service.clock()
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        with service.engine.connect() as conn:
            now = service.results(conn, live, deployed, chunk, at)
            then = service.results(conn, live, candidate, chunk, at)
        for id_, (row, result) in now.items():
            k = str(row.get(key)) if key else str(id_)
            before[k], after[k] = result.tier, then[id_][1].tier
            names[k] = str(row.get("name") or "")
        if progress is not None:
            progress(len(chunk))
    return WhatIf(deployed, candidate, compare(before, after), names)
