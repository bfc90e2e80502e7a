"""``fast_init``: a frozen dataclass's ``__init__``, made cheaper; the same objects.

A frozen dataclass's generated ``__init__`` stores each field through ``object.__setattr__``
(its own ``__setattr__`` refuses every assignment), which makes building one four to five
times as costly as building a plain object: 2-3 µs for a class of five to nine fields. The
scenario parser builds about ten per scenario (half of the time it takes to read a short
one) and an endpoint builds a typed event (``events.py``) at every state change.

``fast_init(cls)`` gives the frozen dataclass ``cls`` an ``__init__`` with the same signature
and defaults (``default`` and ``default_factory`` alike) that stores the fields directly: in
the instance's ``__dict__``, or through the slot descriptors of a ``slots=True`` class. The
class stays the same frozen dataclass: equality, hashing, ``repr``, ``dataclasses.replace``
and the ``FrozenInstanceError`` on assignment are the dataclasses module's own. Classes with
a ``__post_init__``, ``init=False`` or keyword-only fields are refused (TypeError): the
generated ``__init__`` does more for them.
"""
from __future__ import annotations

from dataclasses import MISSING, fields


def fast_init(cls):
    """Replace the frozen dataclass ``cls``'s ``__init__`` by a direct one; returns ``cls``."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen:
        raise TypeError(f"fast_init: {cls.__name__} is not a frozen dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"fast_init: {cls.__name__} has a __post_init__")
    namespace = {"_MISSING": MISSING}
    names, signature, body = [], [], []
    for f in fields(cls):
        if not f.init or f.kw_only:
            raise TypeError(f"fast_init: {cls.__name__}.{f.name} is init=False or keyword-only")
        names.append(f.name)
        if f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            signature.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            signature.append(f"{f.name}=_MISSING")
            body.append(f"    if {f.name} is _MISSING:\n        {f.name} = _factory_{f.name}()")
        else:
            signature.append(f.name)
    if "__slots__" in cls.__dict__:
        for name in names:
            namespace[f"_set_{name}"] = cls.__dict__[name].__set__
        body += [f"    _set_{name}(self, {name})" for name in names]
    elif names:
        body.append("    self.__dict__.update(" + ", ".join(f"{n}={n}" for n in names) + ")")
    source = f"def __init__(self, {', '.join(signature)}):\n" + "\n".join(body or ["    pass"])
    exec(source, namespace)   # noqa: S102 (made from the class's own field names)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init
    return cls
