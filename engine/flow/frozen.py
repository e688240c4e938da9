"""A faster `__init__` for the engine's frozen dataclasses.

A frozen dataclass's generated `__init__` sets each field through `object.__setattr__`, a
global lookup, an attribute lookup and a generic call per field: about half of what building
a Token, Task or Event costs, and the engine builds several per command. `fast_init` swaps
in an `__init__` with the same parameters, defaults and default factories that stores the
fields directly (through the slot descriptors of a slotted class, through the instance dict
otherwise). Everything else stays the dataclass's own: frozen assignment still raises,
equality, hashing, repr, `fields()` and `dataclasses.replace` are unchanged.

Only public `dataclasses` API is read (`fields()`, each field's `default`, `default_factory`,
`init` and `kw_only`). The function is compiled the way `dataclasses` compiles its own: from
source naming the fields (identifiers, checked) and nothing else; every default and factory is
bound as a global of the function, never written into the source."""
from __future__ import annotations

import inspect
import keyword
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, Callable, TypeVar

_C = TypeVar("_C", bound=type)


class _Factory:
    """The default of a parameter whose field has a default factory (shown as `<factory>`, as
    the dataclass's own `__init__` shows it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def fast_init(cls: _C) -> _C:
    """Give the frozen dataclass `cls` a faster `__init__` with the same signature."""
    if not is_dataclass(cls):
        raise TypeError(f"fast_init applies to a dataclass, not {cls.__name__}: put it above @dataclass")
    every = fields(cls)
    own = [name for name in inspect.signature(cls.__init__).parameters][1:]
    if hasattr(cls, "__post_init__") or own != [f.name for f in every if f.init]:
        raise TypeError(f"fast_init does not do what {cls.__name__}'s __post_init__ or InitVar fields need")
    for f in every:
        if not f.name.isidentifier() or keyword.iskeyword(f.name):
            raise TypeError(f"{cls.__name__}: field name {f.name!r} is not an identifier")
    glb: dict[str, Any] = {"_FACTORY": _FACTORY}
    params: list[str] = []
    kw_params: list[str] = []
    body: list[str] = []
    values: list[tuple[str, str]] = []          # (field, the expression its value is in)
    for f in every:
        if f.default is not MISSING:
            glb[f"_d_{f.name}"] = f.default
        elif f.default_factory is not MISSING:
            glb[f"_f_{f.name}"] = f.default_factory
        if not f.init:      # not a parameter: its default or a fresh value of its factory, as dataclass does
            if f.default is not MISSING:
                values.append((f.name, f"_d_{f.name}"))
            elif f.default_factory is not MISSING:
                values.append((f.name, f"_f_{f.name}()"))
            continue
        if f.default is not MISSING:
            p = f"{f.name}=_d_{f.name}"
        elif f.default_factory is not MISSING:
            p = f"{f.name}=_FACTORY"
            body.append(f"    if {f.name} is _FACTORY: {f.name} = _f_{f.name}()")
        else:
            p = f.name
        (kw_params if f.kw_only else params).append(p)
        values.append((f.name, f.name))
    if "__slots__" in cls.__dict__:
        for name, value in values:
            glb[f"_s_{name}"] = _slot_setter(cls, name)
            body.append(f"    _s_{name}(self, {value})")
    else:
        body.append("    _d = self.__dict__")
        body += [f"    _d[{name!r}] = {value}" for name, value in values]
    signature = ", ".join(["self", *params, *(["*", *kw_params] if kw_params else [])])
    src = f"def __init__({signature}):\n" + ("\n".join(body) or "    pass") + "\n"
    ns: dict[str, Any] = {}
    exec(src, glb, ns)   # noqa: S102 - field names only (checked above); values are bound as globals
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)     # noqa: B010 - a plain assignment is a method-assign error to mypy
    return cls


def _slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None and hasattr(descriptor, "__set__"):
            setter: Callable[[Any, Any], None] = descriptor.__set__
            return setter
    raise TypeError(f"{cls.__name__}.{name} has no slot")
