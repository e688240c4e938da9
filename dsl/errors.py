"""The one error root: every error a person can meet derives from `BanyanError`.

An error carries
- `code`: stable and machine-readable — the JSON API's `"error"`, the CLI's `error: CODE: …`,
  what tests and clients compare. Codes already published by the API keep their spelling
  (`not_found`, `conflict`, `stale_version`).
- `key`: its words in the message catalogue (dsl/messages.yaml, zh and en), by default
  `<namespace>.<code>` (`records.not_found`, `flows.stale_version`);
- `params`: the values for the `{slots}` of those words;
- `status`: the HTTP status a door should answer with (4xx);
- `problems`: field problems, each with a path (`("amount",)`, `("rows", 3, "rate")`).

The English `message` given at the raise site stays the fallback text and what `str()` shows
to developers; `render(lang)` is what a person reads. Subclasses keep their own constructors
and set class-level defaults (`code`, `status`, `namespace`, `key`).
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Any, ClassVar

import yaml

LANGS = ("zh", "en")
CATALOG_FILE = Path(__file__).resolve().parent / "messages.yaml"


def lang_of(value: Any, default: str = "zh") -> str:
    """`value` when it is a language the catalogue has, else `default`."""
    return value if value in LANGS else default


def env_lang() -> str:
    """A command line's language: `BANYAN_LANG` (zh or en), else the locale's (`LANG=zh_CN.UTF-8`),
    else English."""
    chosen = os.environ.get("BANYAN_LANG")
    if not chosen:
        locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
        chosen = locale.split("_")[0].split(".")[0].lower()
    return lang_of(chosen, "en")


@lru_cache(maxsize=1)
def catalog() -> Mapping[str, Mapping[str, str]]:
    """The message catalogue, read once: `{key: {"zh": template, "en": template}}`."""
    data = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8")) or {}
    return {str(k): {lang: str(v[lang]) for lang in LANGS if lang in v} for k, v in data.items()}


def slots_of(template: str) -> set[str]:
    """The `{names}` a template fills."""
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def words(key: str, lang: str, **params: Any) -> str:
    """A catalogue entry in `lang`, filled (an unknown key or a missing slot raises KeyError)."""
    lang = lang_of(lang)
    return catalog()[key][lang].format_map({k: in_lang(v, lang) for k, v in params.items()})


def in_lang(value: Any, lang: str) -> Any:
    """A slot's value in `lang`: one that can say itself (`.text(lang)`: a Label, a list of choices)
    does; any other is used as it is."""
    text = getattr(value, "text", None)
    return text(lang) if callable(text) else value


class BanyanError(Exception):
    """Root of every error a person can meet (see the module docstring)."""

    # class-level defaults; an instance may refine code, status and key
    code: str = "error"
    status: int = 400
    namespace: ClassVar[str] = "banyan"
    key: str | None = None                     # None: f"{namespace}.{code}"
    generic: ClassVar[bool] = False            # True: in other languages the catalogue's words say it
                                               # all; the raise site's English detail is not added

    def __init__(self, message: str = "", *, code: str | None = None, key: str | None = None,
                 params: Mapping[str, Any] | None = None, problems: Iterable[Any] | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.params = dict(params or {})
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if key is not None:
            self.key = key
        self.message = message or self._fill("en") or self.message_key
        self.problems: list[Any] = list(problems or [])

    # -- what the error is ----------------------------------------------------------------
    @property
    def message_key(self) -> str:
        return self.key or f"{self.namespace}.{self.code}"

    def detail(self, lang: str = "en") -> list[dict]:
        """Field problems as the API sends them: `[{"loc": [...], "msg": ..., "type": ...}]`
        (a problem that can say itself in `lang` — dsl/field_rules.Problem — does)."""
        return [problem_dict(p, self.code, lang) for p in self.problems]

    # -- what a person reads --------------------------------------------------------------
    def _fill(self, lang: str) -> str | None:
        entry = catalog().get(self.message_key)
        if entry is None or lang not in entry:
            return None
        try:
            return entry[lang].format_map({k: in_lang(v, lang) for k, v in self.params.items()})
        except (KeyError, IndexError, ValueError):
            return None                         # a slot the raise site did not fill

    def render(self, lang: str = "en") -> str:
        """The message in `lang`: the catalogue's words filled with `params`. A raise site that
        gave only an English sentence keeps it in English; other languages put the catalogue's
        headline first (`找不到记录：no loan record 5`), or alone for a `generic` error."""
        lang = lang_of(lang, "en")
        own = self._fill(lang)
        if own is not None and (self.params or not self.message or self.message == self._fill("en")):
            return own
        if lang == "en" or own is None:
            return self.message
        return own if self.generic else f"{own}：{self.message}"

    def to_dict(self, lang: str = "en") -> dict:
        """The JSON API's error body."""
        return {"error": self.code, "message": self.render(lang), "detail": self.detail(lang)}


def problem_dict(problem: Any, default_type: str = "invalid", lang: str = "en") -> dict:
    """One field problem as `{"loc", "msg", "type"}`, from an object with `text(lang)` and `path`/`code`
    (in `lang`), an object with `to_dict()`, a mapping, an object with `path`/`message`(/`code`), or a
    `(path, message)` pair."""
    if callable(getattr(problem, "text", None)) and hasattr(problem, "path"):
        return {"loc": list(_path(problem.path)), "msg": str(problem.text(lang)),
                "type": str(getattr(problem, "code", default_type))}
    if hasattr(problem, "to_dict"):
        return problem.to_dict()
    if isinstance(problem, Mapping):
        return {"loc": list(_path(problem.get("loc", problem.get("path", ())))),
                "msg": str(problem.get("msg", problem.get("message", ""))),
                "type": str(problem.get("type", problem.get("code", default_type)))}
    if hasattr(problem, "path") and hasattr(problem, "message"):
        return {"loc": list(_path(problem.path)), "msg": str(problem.message),
                "type": str(getattr(problem, "code", default_type))}
    path, message = problem
    return {"loc": list(_path(path)), "msg": str(message), "type": default_type}


def _path(path: Any) -> tuple:
    if isinstance(path, (list, tuple)):
        return tuple(path)
    return () if path in (None, "") else (path,)
