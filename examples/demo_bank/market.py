"""Credit bureau inquiries, collateral with its valuations, and the listed members' share prices.

Planted, each a sorted list of credit codes the matching alert rule must find:
- `bureau_inquiries`: distressed firms of kind cash_flow or composite, with 7-12 loan-approval or
  guarantor inquiries in the 150 days before AS_OF (a healthy firm gets at most 4 in a year);
- `collateral_drops`: borrowers of kind leverage or composite whose first effective collateral was
  last valued 16-40% under its value when taken (every other valuation stays within -10%..+12%);
- `collateral_seized`: composite borrowers one of whose collaterals a court has seized;
- `share_slumps`: listed distressed firms whose close fell 32-50% over their last 20 trading days
  (other listed firms wander about 1.2% a day, far from the rule's 30%).
"""
from __future__ import annotations

from datetime import date, timedelta

from .values import AS_OF, lognormal, money_wan, random_date
from .world import World

LENDERS = ("工商银行", "农业银行", "中国银行", "建设银行", "交通银行", "招商银行", "兴业银行", "浦发银行",
           "中信银行", "民生银行", "平安银行", "光大银行", "上海银行", "宁波银行", "中信信托", "平安融资租赁")
CITIES = ("上海", "北京", "杭州", "南京", "苏州", "武汉", "天津", "深圳")
COLLATERAL = (("real_estate", "办公楼", 40), ("land_use_right", "工业用地使用权", 20), ("equipment", "生产设备", 20),
              ("receivables", "应收账款", 12), ("deposit_receipt", "定期存单", 8))
TRADING_DAYS = 60


def build_market(world: World) -> None:
    _inquiries(world)
    _collateral(world)
    _share_prices(world)


def _institution(rng) -> str:
    return f"{rng.choice(LENDERS)}{rng.choice(CITIES)}分行"


def _inquiries(world: World) -> None:
    rng = world.rng("inquiries")
    rows: list[dict] = []
    planted = []

    def add(code: str, day: date, reason: str) -> None:
        rows.append({"inquiry_no": f"Q{len(rows) + 1:07d}", "company": code, "queried_on": day,
                     "institution": _institution(rng), "reason": reason})

    for company in world.records["company"]:
        code = company["credit_code"]
        if world.distress.get(code) in ("cash_flow", "composite"):
            planted.append(code)
            for _ in range(rng.randint(7, 12)):
                add(code, random_date(rng, AS_OF - timedelta(days=150), AS_OF - timedelta(days=1)),
                    rng.choice(("loan_approval", "loan_approval", "guarantee_review")))
        else:
            for _ in range(rng.choices((0, 1, 2, 3, 4), (30, 30, 20, 12, 8))[0]):
                add(code, random_date(rng, AS_OF - timedelta(days=365), AS_OF - timedelta(days=1)),
                    rng.choice(("loan_approval", "guarantee_review")))
        for _ in range(rng.randint(0, 3)):                 # our own and other lenders' post-loan checks
            add(code, random_date(rng, AS_OF - timedelta(days=365), AS_OF - timedelta(days=1)), "post_loan")
    world.records["credit_inquiry"] = rows
    world.planted["bureau_inquiries"] = sorted(planted)


def _collateral(world: World) -> None:
    rng = world.rng("collateral")
    collaterals: list[dict] = []
    valuations: list[dict] = []
    drops, seized, secured = set(), set(), set()
    kinds, names, weights = zip(*[(k, n, w) for k, n, w in COLLATERAL], strict=True)
    for facility in world.records["facility"]:
        borrower = facility["borrower"]
        if borrower is None or facility["level"] != "member_sub" or rng.random() < 0.45:
            continue
        kind = world.distress.get(borrower)
        for _ in range(rng.choice((1, 1, 2))):
            i = rng.choices(range(len(kinds)), weights)[0]
            taken_on = random_date(rng, AS_OF - timedelta(days=4 * 365), AS_OF - timedelta(days=400))
            value = money_wan(max(1e6, lognormal(rng, world.profile[borrower]["total_assets"] * 0.04, 0.6)))
            number = len(collaterals) + 1
            status = "effective"
            first = borrower not in secured
            secured.add(borrower)
            if kind == "composite" and first and rng.random() < 0.4:
                status = "seized"
                seized.add(borrower)
            collaterals.append({
                "collateral_no": f"C{number:07d}", "borrower": borrower, "facility": facility["facility_no"],
                "type": kinds[i], "description": f"{world.company[borrower]['name']}{names[i]}",
                "appraised_value": value, "appraised_on": taken_on, "status": status})
            dropped = kind in ("leverage", "composite") and first and status == "effective"
            start = taken_on + timedelta(days=180)
            dates = {random_date(rng, start, AS_OF - timedelta(days=5)) for _ in range(rng.randint(0, 2))}
            dates.add(random_date(rng, max(start, AS_OF - timedelta(days=300)), AS_OF - timedelta(days=5)))
            latest = max(dates)
            for day in sorted(dates):
                factor = rng.uniform(0.6, 0.84) if dropped and day == latest else rng.uniform(0.9, 1.12)
                valuations.append({
                    "valuation_no": f"V{len(valuations) + 1:07d}", "collateral": f"C{number:07d}",
                    "borrower": borrower, "valued_on": day, "value": money_wan(float(value) * factor),
                    "method": "market" if kinds[i] == "deposit_receipt" else rng.choice(("appraisal", "internal"))})
            if dropped:
                drops.add(borrower)
    world.records["collateral"] = collaterals
    world.records["collateral_valuation"] = valuations
    world.planted["collateral_drops"] = sorted(drops)
    world.planted["collateral_seized"] = sorted(seized)


def _trading_days(count: int) -> list[date]:
    days, day = [], AS_OF
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def _share_prices(world: World) -> None:
    rng = world.rng("share_prices")
    days = _trading_days(TRADING_DAYS)
    rows: list[dict] = []
    slumps = []
    for company in world.records["company"]:
        if not company["listed"]:
            continue
        code = company["credit_code"]
        price = round(rng.uniform(3, 80), 2)
        closes = []
        for _ in days:
            price = max(0.5, price * (1 + rng.gauss(0, 0.012)))
            closes.append(price)
        if code in world.distress:                     # the last 20 sessions slide to 50-68% of the peak
            slumps.append(code)
            peak, fall = closes[-21], rng.uniform(0.32, 0.5)
            for k in range(20):
                closes[-20 + k] = peak * (1 - fall * (k + 1) / 20) * (1 + rng.uniform(-0.004, 0.004))
            closes[-1] = peak * (1 - fall)
        for day, close in zip(days, closes, strict=True):
            rows.append({"quote_no": f"P{len(rows) + 1:08d}", "company": code, "stock_code": company["ticker"],
                         "trade_date": day, "close": round(close, 2)})
    world.records["share_price"] = rows
    world.planted["share_slumps"] = sorted(slumps)
