"""Frozen dataclasses from TOML: type checks, unknown-key errors and ``--set`` overrides.

Generic machinery behind :mod:`logreg_jax.config`: it knows nothing of the experiment's keys,
only how to build any frozen dataclass from nested dicts, so an error always names the source
(file, and the overrides), the dotted key, the value and what was expected.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from logreg_jax.errors import ConfigError


class Invalid(Exception):
    """Raised by a ``__post_init__`` check: (field name, what was expected)."""


def require(ok: bool, name: str, expected: str) -> None:
    """For ``__post_init__`` checks: field ``name`` must satisfy ``ok``, else say what was ``expected``."""
    if not ok:
        raise Invalid(name, expected)


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Checks a TOML value against a type hint; returns it converted (lists become tuples)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(value, inner, key)
    if origin is dict:  # a table whose keys are free (e.g. a sweep's config keys)
        if not isinstance(value, dict):
            raise Invalid(key, f"a table ({_type_name(hint)})")
        return {str(k): _coerce(v, args[1], key) for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise Invalid(key, f"a list ({_type_name(hint)})")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], key) for v in value)
        if len(value) != len(args):
            raise Invalid(key, f"a list of {len(args)} values")
        return tuple(_coerce(v, a, key) for v, a in zip(value, args))
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(key, "a number")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(key, "an integer")
        return value
    if hint in (bool, str) and not isinstance(value, hint):
        raise Invalid(key, "true or false" if hint is bool else "a string")
    return value


def _build(cls: type, raw: dict, prefix: str, source: str) -> Any:
    """Builds dataclass ``cls`` from a nested dict, rejecting unknown keys."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in names:
            known = ", ".join(sorted(prefix + n for n in names))
            raise ConfigError(f"{source}: unknown key {prefix + key!r} (known here: {known})")
    kwargs = {}
    for name, value in raw.items():
        key, hint = prefix + name, hints[name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: {key} = {value!r}: expected a table [{key}]")
            kwargs[name] = _build(hint, value, key + ".", source)
            continue
        try:
            kwargs[name] = _coerce(value, hint, name)
        except Invalid as err:
            raise ConfigError(f"{source}: {key} = {value!r}: expected {err.args[1]}") from None
    try:
        return cls(**kwargs)
    except Invalid as err:
        name, expected = err.args
        value = getattr(cls, name, None) if name not in raw else raw[name]
        raise ConfigError(f"{source}: {prefix + name} = {value!r}: expected {expected}") from None


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"a.b=value"`` → (["a", "b"], value), the value parsed as TOML (bare words as strings)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. --set optimizer.learning_rate=0.5")
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        # An unquoted word such as adam is not TOML; take it as the string the user meant.
        parsed = value.strip()
    return key.split("."), parsed


def build(cls: type, raw: dict, source: str, overrides: typing.Sequence[str] = ()) -> Any:
    """Builds frozen dataclass ``cls`` from nested dicts, with ``--set`` style overrides on top.

    Raises:
        ConfigError: unknown key, wrong type or impossible value, naming key, value and source.
    """
    raw = copy.deepcopy(raw)
    for text in overrides:
        path, value = parse_override(text)
        table = raw
        for part in path[:-1]:
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise ConfigError(f"--set {text!r}: {part!r} is a value, not a table")
        table[path[-1]] = value
    where = source + (f" (with --set {' '.join(overrides)})" if overrides else "")
    cfg = _build(cls, raw, "", where)
    _reject_unused(cls, cfg, where)
    return cfg


def _reject_unused(cls: type, cfg: Any, where: str) -> None:
    """An experiment that inherits keys it does not use lists them (dotted) in a class attribute
    ``UNUSED``; setting one of them to anything but its default is an error, not silently ignored."""
    unused = getattr(cls, "UNUSED", ())
    if not unused:
        return
    default = cls()
    for key in unused:
        value, expected = (functools.reduce(getattr, key.split("."), c) for c in (cfg, default))
        if value != expected:
            raise ConfigError(f"{where}: {key} is set, but this experiment does not use it "
                              f"(it ignores {', '.join(unused)}); remove it")


def read_toml(path: str | Path) -> dict:
    """The tables of a TOML file; a missing or malformed file is a ConfigError naming it."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; expected a TOML config file, e.g. configs/exam_scores.toml") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the config file ({getattr(err, 'strerror', None) or err})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
