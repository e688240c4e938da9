"""Fixtures for the expression tests: a small bank type environment and compile helpers."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pytest

from dsl.diagnostics import Diagnostics
from dsl.expr import compile_expression
from dsl.expr.types import (
    BOOL,
    DATE,
    DATETIME,
    INTEGER,
    MONEY,
    NUMBER,
    PERCENT,
    STRING,
    FieldInfo,
    TypeEnv,
    enum,
    list_of,
    record,
)
from dsl.source import Span

SPAN = Span("rules.yaml", 7, 15)


def make_env() -> TypeEnv:
    return TypeEnv({
        "company": {
            "name": FieldInfo(STRING, False), "credit_code": FieldInfo(STRING), "debt_ratio": FieldInfo(PERCENT),
            "net_assets": FieldInfo(MONEY), "revenue": FieldInfo(MONEY), "employees": FieldInfo(INTEGER),
            "listed": FieldInfo(BOOL), "watch": FieldInfo(BOOL), "score": FieldInfo(NUMBER),
            "tier": FieldInfo(enum(["strategic_core", "high_potential", "stable", "adjust"])),
            "founded": FieldInfo(DATE), "updated_at": FieldInfo(DATETIME),
            "group": FieldInfo(record("group")),
            "financials": FieldInfo(list_of(record("financial_statement")), False),
            "loans": FieldInfo(list_of(record("loan"))),
            "transactions": FieldInfo(list_of(record("transaction"))),
            "products": FieldInfo(list_of(STRING)),
        },
        "group": {"name": FieldInfo(STRING, False), "lead_branch": FieldInfo(record("org_unit")),
                  "credit_limit": FieldInfo(MONEY)},
        "org_unit": {"name": FieldInfo(STRING, False)},
        "financial_statement": {"period_end": FieldInfo(DATE, False), "operating_cash_flow": FieldInfo(MONEY),
                                "total_assets": FieldInfo(MONEY), "total_liabilities": FieldInfo(MONEY)},
        "loan": {"balance": FieldInfo(MONEY, False), "status": FieldInfo(enum(["active", "closed"])),
                 "overdue_days": FieldInfo(INTEGER), "product": FieldInfo(STRING)},
        "transaction": {"at": FieldInfo(DATETIME, False), "amount": FieldInfo(MONEY, False)},
    }, time_fields={"financial_statement": "period_end", "transaction": "at"})


ENV = make_env()
SCOPE = ENV.fields("company")
NOW = datetime(2026, 11, 15, 9, 30)


def compile_ok(text, expected=None, scope=None, **kw):
    diags = Diagnostics()
    expr = compile_expression(text, span=SPAN, scope=SCOPE if scope is None else scope, env=ENV, diags=diags,
                              expected=expected, **kw)
    assert expr is not None, [f"{d.span} {d.code} {d.message}" for d in diags]
    assert not diags.items
    return expr


def compile_err(text, expected=None, scope=None, **kw):
    diags = Diagnostics()
    expr = compile_expression(text, span=SPAN, scope=SCOPE if scope is None else scope, env=ENV, diags=diags,
                              expected=expected, **kw)
    assert expr is None
    assert diags.items
    return diags.items


def ev(text, ctx=None, **kw):
    return compile_ok(text, **kw)(ctx or {})


def fs(period_end, ocf, assets=D(100), liabilities=D(60)):
    return {"period_end": period_end, "operating_cash_flow": ocf, "total_assets": assets,
            "total_liabilities": liabilities}


@pytest.fixture
def company():
    return {
        "name": "华东建材有限公司", "credit_code": "91310000MA1FL8XQ6G", "debt_ratio": D("0.72"),
        "net_assets": D("600000000"), "revenue": D("1200000000"), "employees": 850, "listed": True,
        "watch": None, "score": D("61.5"), "tier": "strategic_core", "founded": date(2008, 5, 12),
        "updated_at": datetime(2026, 11, 1, 8, 0),
        "group": {"name": "华东集团", "lead_branch": {"name": "上海分行"}, "credit_limit": D("5000000000")},
        "financials": [fs(date(2025, 12, 31), D("3000000")), fs(date(2026, 3, 31), D("-5000000")),
                       fs(date(2026, 6, 30), D("-12000000"), liabilities=D(70)),
                       fs(date(2026, 9, 30), D("-8000000"), liabilities=D(75))],
        "loans": [{"balance": D("30000000"), "status": "active", "overdue_days": 0, "product": "working_capital"},
                  {"balance": D("20000000"), "status": "active", "overdue_days": 95, "product": "trade_finance"},
                  {"balance": D("10000000"), "status": "closed", "overdue_days": None, "product": "working_capital"},
                  None],
        "transactions": [{"at": datetime(2026, 11, 15, 1, 0), "amount": D("2000000")},
                         {"at": datetime(2026, 11, 13, 12, 0), "amount": D("500000")},
                         {"at": datetime(2026, 8, 1), "amount": D("9000000")}],
        "products": ["loan", "deposit", "loan", None, "fx"],
        "$now": NOW,
    }
