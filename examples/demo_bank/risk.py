"""Internal and external ratings, and external events.

Distressed firms (`planted["distressed"]`) get a rating cut of two notches or more and the bad
news of their kind (the first composite firm by credit code gets every kind); healthy firms move
at most one notch and only get mild events (executive changes, small suits as plaintiff,
low-severity news).
"""
from __future__ import annotations

from datetime import timedelta

from .values import AS_OF, money, percent, random_date
from .world import World

GRADES = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
          "B+", "B", "B-", "CCC", "CC", "C", "D")
AGENCIES = ("ccxi", "lianhe", "dagong", "golden_credit", "pengyuan")


def grade_value(grade: str) -> str:
    """The enum value of a grade: 'AA+' -> 'aa_plus', 'BBB-' -> 'bbb_minus'."""
    return grade.lower().replace("+", "_plus").replace("-", "_minus")


def pd_of(notch: int) -> float:
    return 1.0 if notch == len(GRADES) else min(0.99, 0.0003 * 1.55 ** (notch - 1))


def build_ratings(world: World) -> None:
    rng = world.rng("ratings")
    records: list[dict] = []
    roots = {g["parent_company"] for g in world.records["group"]}

    def add(subject: str, code: str, source: str, notch: int, rated_on, outlook: str) -> None:
        notch = max(1, min(len(GRADES), notch))
        records.append({
            "rating_no": f"R{len(records) + 1:06d}", "subject_type": subject,
            "company": code if subject == "company" else None, "group": code if subject == "group" else None,
            "source": source, "agency": rng.choice(AGENCIES) if source == "external" else None,
            "grade": grade_value(GRADES[notch - 1]), "notch": notch, "outlook": outlook,
            "pd": percent(pd_of(notch), 6) if source == "internal" else None,
            "rated_on": rated_on, "valid_until": rated_on + timedelta(days=365),
        })

    for company in world.records["company"]:
        code = company["credit_code"]
        base = 5 + round((world.profile[code]["debt_ratio"] - 0.35) * 12) - (2 if code in roots else 0)
        before = max(2, min(12, base + rng.randint(-1, 1)))
        kind = world.distress.get(code)
        if kind == "composite":
            after = before + rng.randint(4, 7)
        elif kind is not None:
            after = before + rng.randint(2, 3)
        else:
            after = before + rng.randint(-1, 1)
        first = random_date(rng, AS_OF - timedelta(days=540), AS_OF - timedelta(days=300))
        second = random_date(rng, AS_OF - timedelta(days=150), AS_OF - timedelta(days=10))
        add("company", code, "internal", before, first, "stable")
        add("company", code, "internal", after, second, "negative" if after > before else "stable")
        if company["listed"] or code in roots:
            external = max(1, before - 2)
            add("company", code, "external", external, first, "stable")
            if kind is not None:
                add("company", code, "external", external + (after - before), second, "negative")
    for group in world.records["group"]:
        add("group", group["code"], "internal", rng.randint(2, 8),
            random_date(rng, AS_OF - timedelta(days=200), AS_OF - timedelta(days=20)), "stable")
    world.records["rating"] = records


def build_events(world: World) -> None:
    rng = world.rng("events")
    events: list[dict] = []
    people = {p["person_no"]: p for p in world.records["person"]}

    def add(code: str, kind: str, title: str, severity: str, source: str, amount: float | None = None,
            role: str | None = None, person: str | None = None, grades: tuple[str, str] | None = None) -> None:
        number = len(events) + 1
        events.append({
            "event_no": f"X{number:06d}", "company": code, "type": kind,
            "occurred_on": random_date(rng, AS_OF - timedelta(days=180), AS_OF - timedelta(days=1)),
            "title": title, "amount": None if amount is None else money(amount), "role_in_case": role,
            "case_no": f"（2026）沪0115民初{number:05d}号" if kind in ("litigation", "dishonest_debtor") else None,
            "person": person, "rating_from": grades[0] if grades else None,
            "rating_to": grades[1] if grades else None, "severity": severity, "source": source,
            "url": f"https://example.com/news/{number}" if source == "news" else None,
        })

    executives = [p["person_no"] for p in world.records["person"] if p["role"] == "executive"]
    # the first composite firm gets every kind of bad news, so each event rule has a firm to find
    every = min((c for c, k in world.distress.items() if k == "composite"), default=None)
    for company in world.records["company"]:
        code, name = company["credit_code"], company["name"]
        net_assets = max(world.profile[code]["net_assets"], 1e6)
        kind = world.distress.get(code)
        if kind == "composite":
            add(code, "litigation", f"{name}借款合同纠纷被诉", "high", "court",
                net_assets * rng.uniform(0.35, 0.8), role="defendant")
            if rng.random() < 0.5 or code == every:
                add(code, "dishonest_debtor", f"{name}被列入失信被执行人名单", "high", "credit_china",
                    net_assets * rng.uniform(0.05, 0.3))
                if company["legal_representative"]:
                    people[company["legal_representative"]]["dishonest_debtor"] = True
            if rng.random() < 0.4 or code == every:
                add(code, "equity_freeze", f"{name}股权被司法冻结", "high", "business_registry",
                    net_assets * rng.uniform(0.1, 0.5))
            if rng.random() < 0.25 or code == every:
                add(code, "bond_default", f"{name}债券未按期兑付", "high", "exchange",
                    rng.uniform(1e8, 1e9))
            if rng.random() < 0.3 or code == every:
                add(code, "controller_change", f"{name}实际控制人变更", "medium", "business_registry")
        if kind is not None:
            add(code, "negative_news", f"{name}经营困难、拖欠供应商货款", "medium", "news")
            if company["listed"]:
                add(code, "rating_change", f"{name}主体评级下调", "high", "rating_agency",
                    grades=("AA", "A" if kind == "composite" else "AA-"))
        roll = rng.random()
        if roll < 0.05:
            add(code, "executive_change", f"{name}总经理变更", "low", "business_registry",
                person=rng.choice(executives))
        elif roll < 0.09:
            add(code, "litigation", f"{name}买卖合同纠纷（原告）", "low", "court",
                net_assets * rng.uniform(0.001, 0.05), role="plaintiff")
        elif roll < 0.12:
            add(code, "negative_news", f"{name}相关媒体报道", "low", "news")
    world.records["external_event"] = events
