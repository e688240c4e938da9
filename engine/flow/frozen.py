"""A faster `__init__` for the engine's frozen dataclasses.

A frozen dataclass's generated `__init__` sets each field through `object.__setattr__`, a
global lookup, an attribute lookup and a generic call per field: about half of what building
a Token, Task or Event costs, and the engine builds several per command. `fast_init` swaps
in an `__init__` with the same parameters, defaults and default factories that stores the
fields directly (through the slot descriptors of a slotted class, through the instance dict
otherwise). Everything else stays the dataclass's own: frozen assignment still raises,
equality, hashing, repr, `fields()` and `dataclasses.replace` are unchanged."""
from __future__ import annotations

import dataclasses
from dataclasses import MISSING, fields

# the sentinel the dataclass's own __init__ uses for default factories (its repr is `<factory>`)
_FACTORY = getattr(dataclasses, "_HAS_DEFAULT_FACTORY", MISSING)


def fast_init(cls):
    own = [f for f in fields(cls) if f.init]
    slotted = "__slots__" in cls.__dict__
    glb: dict = {"_FACTORY": _FACTORY}
    params, kw_params, body = [], [], []
    for f in own:
        if f.default is not MISSING:
            glb[f"_d_{f.name}"] = f.default
            p = f"{f.name}=_d_{f.name}"
        elif f.default_factory is not MISSING:
            glb[f"_f_{f.name}"] = f.default_factory
            p = f"{f.name}=_FACTORY"
            body.append(f"    if {f.name} is _FACTORY: {f.name} = _f_{f.name}()")
        else:
            p = f.name
        (kw_params if f.kw_only else params).append(p)
    if slotted:
        for f in own:
            glb[f"_s_{f.name}"] = _slot_setter(cls, f.name)
            body.append(f"    _s_{f.name}(self, {f.name})")
    else:
        body.append("    _d = self.__dict__")
        body += [f"    _d[{f.name!r}] = {f.name}" for f in own]
    signature = ", ".join(["self", *params, *(["*", *kw_params] if kw_params else [])])
    src = f"def __init__({signature}):\n" + ("\n".join(body) or "    pass") + "\n"
    ns: dict = {}
    exec(src, glb, ns)   # noqa: S102 - built from the class's own field names only
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init
    return cls


def _slot_setter(cls, name: str):
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None and hasattr(descriptor, "__set__"):
            return descriptor.__set__
    raise TypeError(f"{cls.__name__}.{name} has no slot")
