"""The one list of model names, and models from a user's own module (``model.name = "module:attr"``).

A built-in name maps to a function of the ``[model]`` config that returns the :class:`Model`;
a name with a colon imports ``module`` (from the Python path or the current folder) and takes its
``attr``: a :class:`Model`, or such a function. Every question about a model (binary or K classes,
inference, its config keys) is asked of the :class:`Model` itself, never of its name.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys

from logreg_jax.errors import ConfigError
from logreg_jax.models import logistic, mlp, softmax
from logreg_jax.models.base import Model

BUILT_IN = {"logistic": lambda cfg: logistic.MODEL, "softmax": lambda cfg: softmax.MODEL, "mlp": mlp.model}
EXPECTED = f"one of {', '.join(BUILT_IN)}, or module:attribute naming a Model (docs/models.md)"


@functools.cache
def _resolve(name: str) -> tuple[object, str | None]:
    """(the entry, None), or (None, what was expected instead)."""
    if name in BUILT_IN:
        return BUILT_IN[name], None
    module, colon, attr = (part.strip() for part in name.partition(":"))
    if not (colon and module and attr):
        return None, EXPECTED
    if os.getcwd() not in sys.path and "" not in sys.path:  # a user's file beside where they run the script
        sys.path.append(os.getcwd())
    try:
        entry = getattr(importlib.import_module(module), attr)
    except Exception as err:  # noqa: BLE001 - whatever the user's module raises, it is one line here
        return None, f"{EXPECTED}; cannot load {attr!r} from module {module!r} ({_first_line(err)})"
    if not (isinstance(entry, Model) or callable(entry)):
        return None, f"{EXPECTED}; {module}.{attr} is a {type(entry).__name__}"
    return entry, None


def _first_line(err: Exception) -> str:
    return f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"


def model_config_problem(cfg) -> tuple[str, str] | None:
    """What is wrong with a ``[model]`` config, as (key, what was expected), or None.

    The name must resolve to a :class:`Model` (a ``module:attr`` is imported, a function called
    with the config), and the model's own :attr:`Model.config_problem` must accept its keys.
    """
    entry, problem = _resolve(cfg.name)
    if problem is not None:
        return "name", problem
    try:
        model = _built(entry, cfg)
    except Exception as err:  # noqa: BLE001 - a user's function: its failure is the config's error
        return "name", f"{EXPECTED}; calling it with the [model] config raised {_first_line(err)}"
    if not isinstance(model, Model):
        return "name", f"{EXPECTED}; it returned a {type(model).__name__}"
    return model.config_problem(cfg) if model.config_problem is not None else None


@functools.cache
def _built(entry, cfg) -> Model:
    """The Model of a registry entry for a (frozen, hashable) ``[model]`` config, built once: jitted
    code takes the Model as a static argument, so a function that returns an equal-but-new Model
    (new partials) for the same config would otherwise recompile every program on every call."""
    model = entry if isinstance(entry, Model) else entry(cfg)
    return model if not isinstance(model, Model) or model.name == cfg.name else model._replace(name=cfg.name)


def lookup(name: str):
    """The registry entry for ``name``: a :class:`Model` or a function ``model_cfg -> Model``.

    Raises:
        ConfigError: an unknown name, or a ``module:attr`` that cannot be imported.
    """
    entry, problem = _resolve(name)
    if problem is not None:
        raise ConfigError(f"model.name = {name!r}: expected {problem}")
    return entry


def get_model(cfg, n_classes: int | None = None) -> Model:
    """The :class:`Model` a ``ModelConfig`` selects, for ``n_classes`` classes (default: its own, 2).

    The functions of a model may depend on its config (the MLP's activation); its parameter
    shapes are fixed by ``init``, which receives the config itself, and by K (from the training labels).

    Raises:
        ConfigError: an unknown name, or K > 2 classes for a binary-only model.
    """
    problem = model_config_problem(cfg)
    if problem is not None:
        raise ConfigError(f"model.{problem[0]} = {getattr(cfg, problem[0])!r}: expected {problem[1]}")
    model = _built(lookup(cfg.name), cfg)
    return model if n_classes is None else with_classes(model, n_classes)


@functools.cache  # one Model per (model, K), for the reason of _built
def with_classes(model: Model, n_classes: int) -> Model:
    """``model`` for K = ``n_classes`` classes (itself when it has them).

    Raises:
        ConfigError: K > 2 classes for a binary-only model.
    """
    if n_classes == model.n_classes:
        return model
    if model.for_classes is None:
        raise ConfigError(f"model.name = {model.name!r} is binary (labels 0/1), but the data have {n_classes} classes")
    found = model.for_classes(n_classes)
    return found if found.name == model.name else found._replace(name=model.name)
