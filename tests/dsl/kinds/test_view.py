"""View: sections show fields that exist, rows that are lists of records, and columns of them."""
from __future__ import annotations

from .kinds_helpers import compile_with_base, found

VIEW = """\
apiVersion: banyan/v1
kind: View
metadata: {name: g360}
spec:
  subject: group
  title: "name"
  sections:
    - {id: basics, type: fields, fields: [code, name, tier]}
    - {id: figures, type: metrics, metrics: [{label: 授信, value: "credit", warn_when: "value > 10亿"}]}
    - {id: members, type: table, rows: "members", columns: [name, debt_ratio], sort: {by: debt_ratio, order: desc}, limit: 20}
    - {id: suits, type: timeline, rows: "flatten(members.events)", where: "kind == 'lawsuit'", columns: [occurred_on, amount]}
    - {id: equity, type: graph, graph: equity, depth: 3, roles: [risk_manager]}
"""


def test_a_view_compiles_and_its_expressions_run():
    result = compile_with_base(g360=VIEW)
    assert result.ok, [d.message for d in result.diagnostics]
    view = result.bundle.documents[("View", "g360")]
    basics, figures, members, suits, equity = view.sections
    assert basics.fields == ("code", "name", "tier") and members.sort == ("debt_ratio", "desc")
    assert figures.metrics[0].warn_when.test({"value": 2 * 10**9})
    assert suits.row_entity == "event" and suits.where.test({"kind": "lawsuit"})
    rows = suits.rows({"members": [{"events": [{"kind": "news"}]}, {"events": [{"kind": "lawsuit"}]}]})
    assert [r["kind"] for r in rows] == ["news", "lawsuit"]
    assert equity.graph == "equity" and equity.roles == ("risk_manager",)


def test_unknown_fields_and_columns_get_suggestions():
    text = VIEW.replace("fields: [code, name, tier]", "fields: [code, nme, tier]").replace("columns: [name, debt_ratio]",
                                                                                            "columns: [name, debt_ration]")
    result = compile_with_base(g360=text)
    assert found(result, "g360.yaml") == {("BNY404", 8, 49), ("BNY404", 10, 67)}
    assert sorted(d.hint for d in result.diagnostics) == ["did you mean `debt_ratio`?", "did you mean `name`?"]


def test_rows_must_be_records_and_keys_must_fit_the_section():
    text = VIEW.replace('rows: "members"', 'rows: "credit"').replace("type: graph, graph: equity", "type: graph, graph: equity, limit: 3") \
               .replace('{id: basics, type: fields, fields: [code, name, tier]}', '{id: basics, type: fields}')
    codes = found(compile_with_base(g360=text), "g360.yaml")
    assert codes == {("BNY310", 10, 41), ("BNY407", 12, 48), ("BNY204", 8, 20)}


def test_flatten_needs_a_list_of_lists():
    text = VIEW.replace("flatten(members.events)", "flatten(members)")
    assert {c for c, _, _ in found(compile_with_base(g360=text), "g360.yaml")} == {"BNY305"}


def test_an_alerts_section_names_collections_of_the_subject():
    text = VIEW.replace("    - {id: equity", "    - {id: alerts, type: alerts, on: [members], limit: 10}\n    - {id: equity")
    result = compile_with_base(g360=text)
    assert result.ok, [d.message for d in result.diagnostics]
    alerts = result.bundle.documents[("View", "g360")].sections[4]
    assert (alerts.type, alerts.on, alerts.limit) == ("alerts", ("members",), 10)
    wrong = text.replace("on: [members]", "on: [membres, name]")
    diags = compile_with_base(g360=wrong).diagnostics
    assert sorted((d.code, d.hint) for d in diags) == [("BNY404", "collections of group: members"),
                                                      ("BNY404", "did you mean `members`?")]
    misplaced = VIEW.replace("type: graph, graph: equity", "type: graph, graph: equity, on: [members]")
    assert {c for c, _, _ in found(compile_with_base(g360=misplaced), "g360.yaml")} == {"BNY407"}
