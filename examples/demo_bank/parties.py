"""Org units, relationship managers, groups, member companies and natural persons."""
from __future__ import annotations

import math
import random
from datetime import date
from statistics import NormalDist

from .codes import make_resident_id, make_uscc
from .names import BRANCHES, CITIES, TRADES, brands, company_name, person_name
from .values import lognormal, money_wan, random_date
from .world import World

ROADS = ("人民路", "解放路", "中山路", "建设路", "长江路", "科技园路", "世纪大道", "滨江大道", "新华路", "金融街")
RMS_PER_BRANCH = 6
HEAD_OFFICE_SHARE = 5           # the head office leads the largest fifth of the groups ...
# ... except the Shanghai team's own groups, the same codes at every scale and seed: led by the
# Shanghai branch, `rm_sh_01` their lead relationship manager, most members banked in Shanghai and
# a few by other branches (协办行). The large one carries a credit application above 5亿 (the
# committee route of group_credit_approval), the small one one below it.
SHANGHAI_GROUPS = {"G0002": "large", "G0006": "small"}
SHANGHAI_BRANCH, SHANGHAI_RM = "sh_branch", "rm_sh_01"
SHANGHAI_AWAY = 0.25            # the share of a Shanghai group's members served by other branches
CO_SERVED = 2                   # at least this many Shanghai firms belong to groups other branches lead
SHANGHAI = next(c for c in CITIES if c[2] == SHANGHAI_BRANCH)
ELSEWHERE = tuple(c for c in CITIES if c[2] != SHANGHAI_BRANCH)


def build_org(world: World) -> None:
    for code, (zh, en) in BRANCHES.items():
        world.org_units.append({"code": code, "label_zh": zh, "label_en": en,
                                "parent": None if code == "head_office" else "head_office"})
        prefix = "ho" if code == "head_office" else code.removesuffix("_branch")
        rng = world.rng(f"users:{code}")
        for i in range(1, RMS_PER_BRANCH + 1):
            world.users.append({"code": f"rm_{prefix}_{i:02d}", "name": person_name(rng),
                                "branch": code, "role": "relationship_manager"})


def group_sizes(n_groups: int, n_companies: int) -> list[int]:
    """Log-normal sizes by quantile: the largest is ~10x the median (600 vs 60 at full size)."""
    sigma = math.log(10) / NormalDist().inv_cdf((n_groups - 0.5) / n_groups)
    raw = [math.exp(sigma * NormalDist().inv_cdf((i + 0.5) / n_groups)) for i in range(n_groups)]
    factor = n_companies / sum(raw)
    sizes = [max(3, round(r * factor)) for r in raw]
    sizes[-1] += n_companies - sum(sizes)
    return sorted(sizes, reverse=True)


def build_groups_and_companies(world: World) -> None:
    rng = world.rng("companies")
    n_groups, n_companies = world.target("group"), world.target("company")
    sizes = group_sizes(n_groups, n_companies)
    group_brands = brands(rng, n_groups)
    rms = _rms_by_branch(world)
    used_codes: set[str] = set()
    tickers: set[str] = set()
    groups, companies = [], []
    co_served = 0
    for index, (size, brand) in enumerate(zip(sizes, group_brands, strict=True)):
        code = f"G{index + 1:04d}"
        city, divisions, home_branch = rng.choice(CITIES)
        main_trade, industry = rng.choice(TRADES)
        shanghai = code in SHANGHAI_GROUPS
        if shanghai:
            city, divisions, home_branch = SHANGHAI
            lead_branch = SHANGHAI_BRANCH
        else:
            lead_branch = "head_office" if index < max(1, n_groups // HEAD_OFFICE_SHARE) else home_branch
        members: list[str] = []
        names: set[str] = set()
        away = 0
        for m in range(size):
            root = m == 0
            if shanghai:   # most at home, at least one elsewhere: the group spans branches
                home = root or (rng.random() >= SHANGHAI_AWAY and (away or m < size - 1))
            else:
                home = root or rng.random() < 0.65
            if home:
                m_city, m_divisions, m_branch = city, divisions, home_branch
            else:
                m_city, m_divisions, m_branch = rng.choice(ELSEWHERE if shanghai else CITIES)
                away += 1
                if lead_branch not in ("head_office", SHANGHAI_BRANCH) and co_served < CO_SERVED:
                    m_city, m_divisions, m_branch = SHANGHAI    # the Shanghai branch co-serves this group
                    co_served += 1
            trade, m_industry = (main_trade, industry) if rng.random() < 0.5 else rng.choice(TRADES)
            record = _company(rng, code, brand, root, m_city, rng.choice(m_divisions), m_branch,
                              trade, m_industry, names, used_codes, tickers, rms)
            if shanghai and root:
                record["relationship_manager"] = SHANGHAI_RM
            companies.append(record)
            members.append(record["credit_code"])
            world.company[record["credit_code"]] = record
        world.members[code] = members
        groups.append({
            "code": code, "name": companies[-size]["name"].replace("有限公司", ""),
            "parent_company": members[0], "actual_controller": None,
            "control_basis": rng.choices(["equity_control", "common_controller", "family_control",
                                          "decision_control"], [70, 12, 12, 6])[0],
            "industry": industry, "industry_outlook": rng.choices(["weak", "stable", "strong"], [2, 5, 3])[0],
            "lead_branch": lead_branch, "relationship_manager": rng.choice(rms[lead_branch]),
            "tier": None, "tier_override": None, "tier_override_reason": None, "tier_override_until": None,
            "main_settlement_bank": rng.random() < 0.4,
            "recognized_on": random_date(rng, date(2008, 1, 1), date(2024, 12, 31)), "status": "active",
        })
        if shanghai:
            groups[-1]["relationship_manager"] = SHANGHAI_RM
    world.records["group"] = groups
    world.records["company"] = companies


def _rms_by_branch(world: World) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for user in world.users:
        result.setdefault(user["branch"], []).append(user["code"])
    return result


def _company(rng: random.Random, group: str, brand: str, root: bool, city: str, division: str,
             branch: str, trade: str, industry: str, names: set[str], used_codes: set[str],
             tickers: set[str], rms: dict[str, list[str]]) -> dict:
    if root:
        name = f"{brand}{rng.choice(['集团', '控股集团', '实业集团'])}有限公司"
        established = random_date(rng, date(1988, 1, 1), date(2010, 12, 31))
        capital = lognormal(rng, 2e9, 0.6)
    else:
        suffix = rng.choices(["有限公司", "股份有限公司", "有限责任公司"], [80, 8, 12])[0]
        name = company_name(rng, city, brand, trade, suffix)
        tries = 0
        while name in names:
            tries += 1
            if tries > 3:
                trade, industry = rng.choice(TRADES)
            name = company_name(rng, city, brand, trade, suffix)
            if tries > 60:
                name = f"{city}{brand}{trade}{tries}号{suffix}"
        established = random_date(rng, date(1995, 1, 1), date(2024, 12, 31))
        capital = lognormal(rng, 5e7, 1.0)
    names.add(name)
    code = make_uscc(rng, division, new_style=established >= date(2016, 1, 1))
    while code in used_codes:
        code = make_uscc(rng, division, new_style=established >= date(2016, 1, 1))
    used_codes.add(code)
    listed = rng.random() < (0.3 if root else 0.03)
    legal_form = ("joint_stock" if listed or "股份" in name else
                  rng.choices(["limited_liability", "state_owned", "foreign_invested", "partnership"],
                              [85, 6, 6, 3])[0])
    return {
        "credit_code": code, "name": name, "group": group, "legal_form": legal_form,
        "scale_class": "large" if root or capital > 3e8 else rng.choices(["medium", "small", "micro"], [5, 4, 1])[0],
        "industry": industry, "registered_capital": money_wan(max(capital, 1e5)),
        "established_on": established, "region": division,
        "address": f"{city}市{rng.choice(ROADS)}{rng.randint(1, 999)}号",
        "legal_representative": None, "branch": branch, "relationship_manager": rng.choice(rms[branch]),
        "listed": listed, "ticker": _ticker(rng, tickers) if listed else None,
        "status": "operating" if root or rng.random() > 0.004 else "liquidation",
    }


def _ticker(rng: random.Random, taken: set[str]) -> str:
    while True:
        market = rng.choices(["SH", "SZ", "HK"], [45, 40, 15])[0]
        if market == "SH":
            ticker = f"{rng.choice([600, 601, 603, 605, 688]) * 1000 + rng.randint(0, 999)}.SH"
        elif market == "SZ":
            ticker = f"{rng.choice([0, 2, 300, 301]) * 1000 + rng.randint(1, 999):06d}.SZ"
        else:
            ticker = f"{rng.randint(1, 9999):05d}.HK"
        if ticker not in taken:
            taken.add(ticker)
            return ticker


def build_persons(world: World) -> None:
    """Controllers (one per group), executives (legal representatives), shareholders, relatives."""
    rng = world.rng("persons")
    groups = world.records["group"]
    n_total = max(world.target("person"), 3 * len(groups))
    n_relatives = round(n_total * 0.08)
    n_shareholders = round(n_total * 0.05)
    n_executives = n_total - len(groups) - n_relatives - n_shareholders
    persons: list[dict] = []
    used_ids: set[str] = set()

    def add(role: str, **extra) -> dict:
        male = rng.random() < 0.78
        birth = random_date(rng, date(1955, 1, 1), date(1992, 12, 31))
        division = rng.choice(rng.choice(CITIES)[1])
        id_number = make_resident_id(division, birth.strftime("%Y%m%d"), rng.randrange(500), male)
        while id_number in used_ids:
            id_number = make_resident_id(division, birth.strftime("%Y%m%d"), rng.randrange(500), male)
        used_ids.add(id_number)
        record = {
            "person_no": f"P{len(persons) + 1:06d}", "name": person_name(rng), "id_number": id_number,
            "gender": "male" if male else "female", "birth_date": birth, "role": role,
            "employer": None, "position": None, "relative_of": None, "relation": None,
            "dishonest_debtor": False,
        }
        record.update(extra)
        persons.append(record)
        return record

    for group in groups:
        controller = add("controller")
        group["actual_controller"] = controller["person_no"]
        world.company[group["parent_company"]]["legal_representative"] = controller["person_no"]
    executives_by_group = _spread(n_executives, [len(world.members[g["code"]]) for g in groups])
    for group, count in zip(groups, executives_by_group, strict=True):
        members = world.members[group["code"]]
        hired = []
        for i in range(count):
            employer = members[0] if i < 3 else rng.choice(members)
            position = ["general_manager", "cfo", "director"][i] if i < 3 else rng.choices(
                ["general_manager", "chairman", "cfo", "director", "supervisor"], [35, 20, 20, 15, 10])[0]
            hired.append(add("executive", employer=employer, position=position)["person_no"])
        for code in members[1:]:
            world.company[code]["legal_representative"] = rng.choice(hired)
    controllers = [p for p in persons if p["role"] == "controller"]
    for _ in range(n_relatives):
        of = rng.choice(controllers) if rng.random() < 0.8 else rng.choice(persons)
        add("relative", relative_of=of["person_no"], relation=rng.choice(["spouse", "child", "sibling", "parent"]))
    for _ in range(n_shareholders):
        add("shareholder")
    world.records["person"] = persons


def _spread(total: int, weights: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, at least 1 each, summing exactly to max(total, n)."""
    base = [max(1, math.floor(total * w / sum(weights))) for w in weights]
    shortfall = total - sum(base)
    order = sorted(range(len(weights)), key=lambda i: -weights[i])
    for i in range(max(0, shortfall)):
        base[order[i % len(order)]] += 1
    return base
