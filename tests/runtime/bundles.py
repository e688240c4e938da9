"""Small inline bundles for the runtime tests."""
from __future__ import annotations

import textwrap

from dsl.compiler import compile_texts
from runtime.deploy.releases import release_of


def entity(name: str, fields: str, key: str | None = "code", extra: str = "") -> tuple[str, str]:
    text = f"""\
apiVersion: banyan/v1
kind: Entity
metadata:
  name: {name}
  label: {{zh: {name}, en: {name}}}
spec:
{f"  key: {key}" if key else ""}
  fields:
{textwrap.indent(textwrap.dedent(fields).strip(), "    ")}
{textwrap.indent(textwrap.dedent(extra).strip(), "  ")}
"""
    return f"{name}.yaml", text


def bundle(*files: tuple[str, str]):
    result = compile_texts(dict(files))
    if not result.ok:
        raise AssertionError("test bundle does not compile:\n" + "\n".join(
            f"{d.code} {d.message}" for d in result.diagnostics.sorted()))
    return result.bundle


def release(*files):
    return release_of(bundle(*files))


GROUP = entity("group", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: name, type: string, label: {en: Name}, required: true}
""")

COMPANY_FIELDS = """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: name, type: string, label: {en: Name}, required: true, index: true, max_length: 100}
    - {name: group, type: ref(group), label: {en: Group}}
    - {name: capital, type: money, label: {en: Capital}, min: 0}
    - {name: employees, type: integer, label: {en: Employees}, min: 0, max: 1000000}
    - {name: founded, type: date, label: {en: Founded}}
    - {name: listed, type: bool, label: {en: Listed}, default: false}
    - name: size
      type: enum
      label: {en: Size}
      values: [large, medium, small]
"""
COMPANY = entity("company", COMPANY_FIELDS)
