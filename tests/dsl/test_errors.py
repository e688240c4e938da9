"""The one error root (dsl/errors.py): every error class a person can meet derives from
BanyanError, and the catalogue (dsl/messages.yaml) has words in zh and en for every code in use."""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

from dsl.errors import LANGS, BanyanError, catalog, problem_dict, slots_of, words

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dsl", "engine", "forms", "runtime")

# Exceptions that never leave their module's own code: control flow caught a few lines away,
# or retry bookkeeping of the jobs room whose text is stored for operators, not shown.
INTERNAL = {
    "runtime.jobs.feed.LeaseLost": "the worker's own signal to roll back; caught by the worker",
    "runtime.jobs.senders.SendFailed": "the outbox's retry signal; caught by the outbox",
    "runtime.jobs.senders.Undeliverable": "the outbox's give-up signal; caught by the outbox",
    "runtime.storage.faults.InjectedFault": "a crash the tests inject at a step boundary; stands for an unexpected "
                                            "failure, so it must not be a BanyanError a handler answers in words",
    "runtime.jobs.templates.TemplateProblem": "caught by the outbox (the message is marked failed); "
                                              "its owner should make it a BanyanError when validate raises it",
}
# Classes whose code varies per raise site: the callables that raise them, and their namespace.
PER_SITE_CODES = {"reject": "flows", "CommandRejected": "flows", "FlowError": "flows", "BadInput": "forms"}


def _modules():
    for package in PACKAGES:
        yield importlib.import_module(package)
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=package + "."):
            if ".migrations." in info.name:        # Alembic revisions import `op` at load time
                continue
            yield importlib.import_module(info.name)


def _exception_classes() -> list[type]:
    found = {}
    for module in _modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == module.__name__:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


EXCEPTIONS = _exception_classes()


def test_the_walk_finds_the_known_errors() -> None:
    names = {cls.__name__ for cls in EXCEPTIONS}
    assert {"DiagnosticError", "CommandRejected", "BadInput", "RecordError", "FlowError", "NothingDeployed",
            "PermissionDenied", "ConfigError", "SeedError", "GraphUnavailable", "UserError"} <= names


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_error_class_derives_from_banyan_error(cls: type) -> None:
    name = f"{cls.__module__}.{cls.__qualname__}"
    if cls.__name__.startswith("_") or name in INTERNAL:
        return
    assert issubclass(cls, BanyanError), f"{name} does not derive from dsl.errors.BanyanError"


@pytest.mark.parametrize("cls", [c for c in EXCEPTIONS if issubclass(c, BanyanError)],
                         ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_class_default_has_words(cls: type[BanyanError]) -> None:
    if cls.__name__ in PER_SITE_CODES or any(b.__name__ in PER_SITE_CODES for b in cls.__mro__[1:]):
        return                                     # per raise site: checked from the source below
    key = cls.key or f"{cls.namespace}.{cls.code}"
    assert key in catalog(), f"{cls.__name__}: no `{key}` in dsl/messages.yaml"
    assert 400 <= cls.status < 600


def _codes_raised() -> set[tuple[str, str, str]]:
    """(namespace, code, where) of every `reject("code", …)`, `FlowError("code", …)`, `BadInput("code")`."""
    out = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                    continue
                callee = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if callee in PER_SITE_CODES and isinstance(node.args[0].value, str):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    out.add((PER_SITE_CODES[callee], node.args[0].value, where))
    return out


def test_every_code_raised_has_words_in_both_languages() -> None:
    raised = _codes_raised()
    assert len({code for _, code, _ in raised}) > 40          # the walk did find the engine's refusals
    missing = sorted(f"{ns}.{code} ({where})" for ns, code, where in raised if f"{ns}.{code}" not in catalog())
    assert not missing, "add these to dsl/messages.yaml:\n" + "\n".join(missing)


@pytest.mark.parametrize("key", sorted(catalog()))
def test_catalogue_entries_have_both_languages_with_the_same_slots(key: str) -> None:
    entry = catalog()[key]
    assert set(entry) == set(LANGS), f"{key}: {sorted(entry)}"
    assert slots_of(entry["zh"]) == slots_of(entry["en"]), key
    assert all(entry[lang].strip() for lang in LANGS)


# -- rendering ------------------------------------------------------------------------------

class _Missing(BanyanError):
    code, status, namespace = "not_found", 404, "records"


def test_a_message_only_error_keeps_its_english_and_leads_with_the_translation() -> None:
    error = _Missing("no loan record 5")
    assert str(error) == "no loan record 5" and error.message == "no loan record 5"
    assert error.render("en") == "no loan record 5"
    assert error.render("zh") == "找不到记录：no loan record 5"
    assert error.to_dict("zh") == {"error": "not_found", "message": "找不到记录：no loan record 5", "detail": []}


def test_an_error_with_parameters_is_all_catalogue() -> None:
    error = BanyanError(key="forms.min", code="min", params={"limit": 5})
    assert error.render("zh") == "不能小于 5" and error.render("en") == "Must be at least 5"
    assert error.message == "Must be at least 5"                   # the English text when none was given


def test_a_missing_slot_falls_back_to_the_message() -> None:
    error = BanyanError("at most 3 rows", key="forms.max_rows", params={"other": 1})
    assert error.render("en") == "at most 3 rows"
    assert error.render("fr") == "at most 3 rows"                  # an unknown language is English


def test_an_unknown_key_shows_the_message() -> None:
    assert BanyanError("plain words", key="nowhere.at_all").render("zh") == "plain words"


def test_field_problems_carry_paths_in_every_form() -> None:
    class P:
        path, message, code = ("rows", 2, "rate"), "too high", "max"
    error = BanyanError("bad", problems=[P(), (("amount",), "required"), {"loc": ["x"], "msg": "m", "type": "t"}])
    assert error.detail() == [{"loc": ["rows", 2, "rate"], "msg": "too high", "type": "max"},
                              {"loc": ["amount"], "msg": "required", "type": "error"},
                              {"loc": ["x"], "msg": "m", "type": "t"}]
    assert problem_dict(("name", "taken")) == {"loc": ["name"], "msg": "taken", "type": "invalid"}


def test_words_fills_an_entry() -> None:
    assert words("banyan.internal", "en", ref="abc").endswith("the reference abc")
    with pytest.raises(KeyError):
        words("banyan.internal", "zh")


def test_existing_constructors_still_work() -> None:
    from engine.flow.errors import CommandRejected
    from forms.values import BadInput
    from runtime.flows.store import FlowError
    from runtime.records.errors import NotFound

    rejected = CommandRejected("stale_version", "instance 7 is at version 3")
    assert (rejected.code, rejected.message, str(rejected)) == ("stale_version", "instance 7 is at version 3",
                                                               "stale_version: instance 7 is at version 3")
    assert rejected.render("zh").startswith("流程已被他人更新")
    flow = FlowError.of(rejected)
    assert (flow.code, flow.status, flow.message_key) == ("stale_version", 409, "flows.stale_version")
    bad = BadInput("scale", limit=2)
    assert (bad.code, bad.slots, bad.render("zh"), bad.status) == ("scale", {"limit": 2}, "最多 2 位小数", 422)
    missing = NotFound("no loan record 5")
    assert missing.to_dict() == {"error": "not_found", "message": "no loan record 5", "detail": []}
