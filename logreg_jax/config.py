"""Experiment configuration: frozen dataclasses, TOML files and typed ``--set`` overrides.

Every default lives here, in the dataclass fields. A TOML file sets any subset of them; a
command-line override ``--set section.key=value`` is parsed as a TOML value and applied on top.
Unknown keys, wrongly typed values and impossible values are rejected with a
:class:`~logreg_jax.errors.ConfigError` naming the file, the key and the value.

A study (:mod:`logreg_jax.studies`) composes its config: a frozen dataclass with a ``base`` field
holding the :class:`Config` and fields of its own (its sections). Its TOML file is one flat file:
the study's own keys go to its fields, every other key to ``base``; keys of ``base`` that the study
does not use are listed in its ``IGNORES`` and refused when set to anything but their default.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logreg_jax.errors import ConfigError
from logreg_jax.models.registry import get_model, model_config_problem


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


def _build(cls: type, raw: dict, prefix: str, source: str, **given) -> Any:
    """Builds dataclass ``cls`` from a nested dict (and fields ``given`` as is), rejecting unknown keys."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)} - set(given)
    for key in raw:
        if key not in names:
            known = ", ".join(sorted(prefix + n for n in names))
            raise ConfigError(f"{source}: unknown key {prefix + key!r} (known here: {known})")
    kwargs = dict(given)
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
    for name in names - set(raw):  # sections left at their defaults: built here, so errors name them
        if dataclasses.is_dataclass(hints[name]):
            kwargs[name] = _build(hints[name], {}, prefix + name + ".", source)
    try:
        return cls(**kwargs)
    except Invalid as err:
        name, expected = err.args
        head, dot, rest = name.partition(".")
        if dot:  # a check across sections names the key in its section
            raise ConfigError(
                f"{source}: {prefix + name} = {getattr(kwargs[head], rest)!r}: expected {expected}"
            ) from None
        if name not in raw and not hasattr(cls, name):  # no value, no plain default: the key is missing
            raise ConfigError(f"{source}: {prefix + name} is not set: expected {expected}") from None
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


# Keys only a single run of experiments/train.py uses. Every study trains full batch, in memory, on
# all its rows, without inference, so each lists these among the keys it IGNORES.
RUN_ONLY = ("data.test_fraction", "data.test_path", "train.batch_size", "distributed", "inference")

INITS = ("uniform", "zeros", "normal")
OPTIMIZERS = ("sgd", "momentum", "adam", "lbfgs", "newton", "prox_newton")
DTYPES = ("float32", "float64")
COV_TYPES = ("nonrobust", "HC0")
SEEDS = "an integer in [-2**63, 2**63 - 1] (what jax.random.key accepts)"
MAX_GRID_POINTS = 4_000_000  # probability-map grid (2000 × 2000): every point is predicted at once


def plain_name(name: str) -> bool:
    """Whether ``name`` is one plain folder name: ``runs/<name>`` is then a new folder inside
    ``runs/``, never ``runs/`` itself or a folder above or beside it."""
    return name.strip() != "" and name.isprintable() and name not in (".", "..") and not any(c in name for c in "/\\")


def valid_seed(seed: int) -> bool:
    return -(2**63) <= seed < 2**63


@dataclass(frozen=True)
class SyntheticConfig:
    m: int = 0  # samples; 0 = off (data.path is read instead)
    d: int = 2  # features (Gaussian; labels from a logistic model, see logreg_jax/scale/sources.py)
    seed: int = 0  # the data's own seed (the run's seed still drives init and shuffling)

    def __post_init__(self):
        require(self.m >= 0, "m", "an integer >= 0")
        require(self.d >= 1, "d", "an integer >= 1")
        require(valid_seed(self.seed), "seed", SEEDS)


@dataclass(frozen=True)
class XorConfig:
    m: int = 200  # samples, split evenly over the four quadrants
    noise: float = 0.4  # standard deviation of each point around its quadrant centre (±1, ±1)

    def __post_init__(self):
        require(self.m >= 4, "m", "an integer >= 4 (one point per quadrant at least)")
        require(math.isfinite(self.noise) and self.noise >= 0, "noise", "a finite number >= 0")


@dataclass(frozen=True)
class DataConfig:
    # comma-separated rows (label last) or a .npy (m, d + 1) array, relative to the cwd; or a
    # built-in dataset name: "xor"
    path: str = "data/exam_scores.txt"
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)  # m > 0: generated rows instead of path
    xor: XorConfig = field(default_factory=XorConfig)  # used when path = "xor"
    # held out for evaluation, never trained on: a stratified fraction of the rows (drawn from
    # the run's seed), or a second file in the same format; 0 and unset = train on everything
    test_fraction: float = 0.0
    test_path: str | None = None

    def __post_init__(self):
        require(self.path.strip() != "", "path", 'a data file, e.g. "data/exam_scores.txt", or "xor"')
        require(self.test_path is None or self.test_path.strip() != "", "test_path", "a data file, or unset")
        require(0 <= self.test_fraction < 1, "test_fraction", "a number in [0, 1)")
        require(
            not (self.test_fraction > 0 and self.test_path),
            "test_fraction",
            "0 when data.test_path is set (one held-out set: a fraction or a file)",
        )
        require(
            not (self.path == "xor" and self.synthetic.m > 0),
            "path",
            'a file or "xor", not both "xor" and data.synthetic (set synthetic.m = 0)',
        )


@dataclass(frozen=True)
class FeaturesConfig:
    polynomial_degree: int = 1  # 1 = raw features; > 1: every monomial of the features up to this degree
    standardize: bool = True  # mean 0 / std 1 per column, statistics of the training data

    def __post_init__(self):
        require(self.polynomial_degree >= 1, "polynomial_degree", "an integer >= 1")


@dataclass(frozen=True)
class ModelConfig:
    # logistic, softmax (K classes), mlp (binary or K classes), or module:attr (docs/models.md)
    name: str = "logistic"
    # logistic: uniform in [0, 1) as in the tutorial, zeros, or normal; mlp: uniform or normal,
    # each scaled to the layer's fan-in/fan-out (Glorot, He for relu)
    init: str = "uniform"
    hidden: tuple[int, ...] = (8, 8)  # mlp: units per hidden layer, any depth ([] = logistic)
    activation: str = "tanh"  # mlp: sigmoid, tanh or relu in the hidden layers

    def __post_init__(self):
        require(self.init in INITS, "init", f"one of {', '.join(INITS)}")
        problem = model_config_problem(self)  # the registry and the model itself judge the rest
        require(problem is None, *(problem or ("", "")))


@dataclass(frozen=True)
class LossConfig:
    l2: float = 0.0  # penalty (l2 / 2m) * sum of squared weights, bias excluded
    l1: float = 0.0  # penalty (l1 / m) * sum of |weights|, bias excluded (optimizer prox_newton; docs/sparse.md)

    def __post_init__(self):
        require(math.isfinite(self.l2) and self.l2 >= 0, "l2", "a finite number >= 0")
        require(math.isfinite(self.l1) and self.l1 >= 0, "l1", "a finite number >= 0")


@dataclass(frozen=True)
class OptimizerConfig:
    name: str = "sgd"  # sgd, momentum, adam, lbfgs, newton, prox_newton (the one for loss.l1 > 0)
    learning_rate: float = 1.0  # unused by lbfgs and newton, whose line searches pick each step
    momentum: float = 0.9  # used by "momentum"
    nesterov: bool = False  # used by "momentum"
    memory_size: int = 10  # used by "lbfgs": past steps kept to approximate the curvature
    damping: float = 0.1  # newton: solves (H + damping·‖∇C‖·I) d = −∇C, see newton() in logreg_jax/optimizers.py

    def __post_init__(self):
        require(self.name in OPTIMIZERS, "name", f"one of {', '.join(OPTIMIZERS)}")
        require(math.isfinite(self.learning_rate) and self.learning_rate > 0, "learning_rate", "a finite number > 0")
        require(0 <= self.momentum < 1, "momentum", "a number in [0, 1)")
        require(self.memory_size >= 1, "memory_size", "an integer >= 1")
        require(math.isfinite(self.damping) and self.damping >= 0, "damping", "a finite number >= 0")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 100  # the most full-batch steps
    log_every: int = 10  # epochs per compiled chunk and per progress line
    tol: float = 0.0  # stop once ‖∇C‖ <= tol (checked every epoch, inside the compiled loop); 0 = off
    batch_size: int | None = None  # unset: full batch; else minibatches reshuffled every epoch

    def __post_init__(self):
        require(self.epochs > 0, "epochs", "an integer > 0")
        require(math.isfinite(self.tol) and self.tol >= 0, "tol", "a finite number >= 0")
        require(self.log_every > 0, "log_every", "an integer > 0")
        require(self.batch_size is None or self.batch_size > 0, "batch_size", "an integer > 0")


@dataclass(frozen=True)
class DistributedConfig:
    data_parallel: bool = False  # shard the rows over every device (of every process), replicate params
    coordinator: str = ""  # host:port of process 0, for num_processes > 1 (jax.distributed.initialize)
    num_processes: int = 1  # processes of one run; each reads only the rows of its own devices
    process_id: int = 0  # this process, 0 … num_processes − 1
    timeout_s: int = 60  # num_processes > 1: give up joining the coordinator after this many seconds

    def __post_init__(self):
        require(self.num_processes >= 1, "num_processes", "an integer >= 1")
        require(0 <= self.process_id < self.num_processes, "process_id", "an integer in [0, num_processes)")
        require(
            self.num_processes == 1 or ":" in self.coordinator,
            "coordinator",
            "host:port of process 0 when num_processes > 1",
        )
        require(self.num_processes == 1 or self.data_parallel, "data_parallel", "true when num_processes > 1")
        require(self.timeout_s >= 1, "timeout_s", "an integer >= 1 (seconds)")


@dataclass(frozen=True)
class PredictConfig:
    points: tuple[tuple[float, ...], ...] = ((45.0, 85.0),)  # raw feature values to predict

    def __post_init__(self):
        require(
            all(math.isfinite(v) for p in self.points for v in p),
            "points",
            "lists of finite numbers (NaN and inf cannot be predicted)",
        )


@dataclass(frozen=True)
class PlotConfig:
    x1: tuple[float, float] | None = None  # grid range of feature 1; unset: data range + 5 %
    x2: tuple[float, float] | None = None  # grid range of feature 2; unset: data range + 5 %
    step: float | None = None  # grid spacing; unset: 300 points per axis
    levels: int = 20  # filled-contour levels of P(y = 1) between 0 and 1
    cmap: str = "RdYlBu"
    axis_labels: tuple[str, str] | None = None  # unset: the data's feature names
    class_names: tuple[str, str] = ("y = 0", "y = 1")  # legend entries for labels 0 and 1

    def __post_init__(self):
        for name in ("x1", "x2"):
            lo_hi = getattr(self, name)
            require(lo_hi is None or lo_hi[0] < lo_hi[1], name, "[low, high] with low < high")
        require(self.step is None or (math.isfinite(self.step) and self.step > 0), "step", "a finite number > 0")
        require(self.levels >= 2, "levels", "an integer >= 2")
        # the default needs no lookup: loading matplotlib's registry of colormaps would cost every run
        require(
            self.cmap == "RdYlBu" or _is_colormap(self.cmap),
            "cmap",
            "the name of a matplotlib colormap, e.g. RdYlBu or viridis",
        )
        if self.x1 is not None and self.x2 is not None:
            problem = self.grid_problem()
            require(problem is None, "step", problem or "")

    def grid_ranges(self, X_raw=None) -> list[tuple[float, float] | None]:
        """The (low, high) of the two grid axes: as configured, else the range of (m, 2) ``X_raw``
        plus 5 % on each side (None where neither is known)."""
        ranges = []
        for j, lo_hi in enumerate((self.x1, self.x2)):
            if lo_hi is None and X_raw is not None:
                lo, hi = float(X_raw[:, j].min()), float(X_raw[:, j].max())
                lo_hi = (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
            ranges.append(lo_hi)
        return ranges

    def grid_problem(self, X_raw=None) -> str | None:
        """What is wrong with the grid ``step`` over :meth:`grid_ranges`, or None if it is fine."""
        if self.step is None:
            return None
        ranges = [r for r in self.grid_ranges(X_raw) if r is not None]
        counts = [int((hi - lo) / self.step + 0.5) + 1 for lo, hi in ranges]  # as report.grids.grid_axes
        if any(c < 2 for c in counts):
            return (
                f"a step at most the plot range ({' and '.join(f'{hi - lo:g}' for lo, hi in ranges)}), "
                "so that the grid has 2 points per axis at least"
            )
        if math.prod(counts) > MAX_GRID_POINTS:
            return (
                f"a step that gives at most {MAX_GRID_POINTS:,} grid points (this one gives "
                f"{' × '.join(map(str, counts))}, too many to predict in memory)"
            )
        return None


def _is_colormap(name: str) -> bool:
    import matplotlib  # not pyplot: the registry of colormaps only, no figure machinery

    return name in matplotlib.colormaps


@dataclass(frozen=True)
class InferenceConfig:
    # logistic models: standard errors, tests and intervals after training (logreg_jax/report/inference.py)
    enabled: bool = True
    cov_type: str = "nonrobust"  # inverse observed information, or "HC0" (the sandwich estimator)
    bootstrap: int = 0  # resamples of the rows, refitted in one vmapped call; 0 = off

    def __post_init__(self):
        require(self.cov_type in COV_TYPES, "cov_type", f"one of {', '.join(COV_TYPES)}")
        require(self.bootstrap >= 0, "bootstrap", "an integer >= 0 (0 = off)")


@dataclass(frozen=True)
class Config:
    name: str = "run"  # the run folder is runs/<name>/ unless --out is given
    seed: int = 0  # the one PRNG seed every key is split from
    dtype: str = "float32"  # float32 or float64 for parameters and data
    data: DataConfig = field(default_factory=DataConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    predict: PredictConfig = field(default_factory=PredictConfig)
    plot: PlotConfig = field(default_factory=PlotConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)

    def __post_init__(self):
        require(
            plain_name(self.name),
            "name",
            "one plain folder name (not '.' or '..', no '/', backslash or control character)",
        )
        require(valid_seed(self.seed), "seed", SEEDS)
        require(self.dtype in DTYPES, "dtype", f"one of {', '.join(DTYPES)}")
        problem = sparse_problem(self)
        require(problem is None, *(problem or ("", "")))


def sparse_problem(cfg) -> tuple[str, str] | None:
    """(section, what was expected) if ``loss.l1`` or ``prox_newton`` is asked of a model or optimizer
    that cannot take it (issue 21), else None."""
    l1, opt, convex = cfg.loss.l1, cfg.optimizer.name, get_model(cfg.model).convex
    if l1 > 0 and not convex:
        return (
            "loss.l1",
            f"0 for model.name = {cfg.model.name!r} (the L1 penalty is for convex models: logistic, softmax)",
        )
    if opt == "prox_newton" and not convex:
        return "optimizer.name", f"another optimizer for model.name = {cfg.model.name!r} (its objective is not convex)"
    if l1 > 0 and opt == "newton":
        return (
            "loss.l1",
            '0 with optimizer.name = "newton" (Newton needs a twice-differentiable objective; use "prox_newton")',
        )
    if l1 > 0 and opt != "prox_newton":
        return "loss.l1", f'0, or optimizer.name = "prox_newton" (not {opt!r}): the L1 term needs its proximal step'
    return None


def reads_a_source(cfg: Config) -> bool:
    """Whether ``cfg.data`` names rows that :mod:`logreg_jax.scale` reads (a ``.npy`` file or
    generated rows) rather than a text file or ``"xor"``."""
    return cfg.data.synthetic.m > 0 or str(cfg.data.path).endswith(".npy")


def scale_reason(cfg: Config) -> str | None:
    """Which config key asks for :mod:`logreg_jax.scale`, or None for the in-memory path."""
    if cfg.data.synthetic.m > 0:
        return "data.synthetic"
    if str(cfg.data.path).endswith(".npy"):
        return "a .npy data file"
    if cfg.train.batch_size is not None:
        return "train.batch_size"
    if cfg.distributed.data_parallel or cfg.distributed.num_processes > 1:
        return "distributed"
    return None


def data_name(data_cfg: DataConfig) -> str:
    """What a ``DataConfig`` reads, for progress lines (the name a row source gets)."""
    syn = data_cfg.synthetic
    return f"synthetic(m={syn.m}, d={syn.d}, seed={syn.seed})" if syn.m > 0 else str(data_cfg.path)


def _apply_overrides(raw: dict, overrides: typing.Sequence[str], cls: type = Config) -> dict:
    raw = copy.deepcopy(raw)
    for text in overrides:
        path, value = parse_override(text)
        table = raw
        for part in path[:-1]:
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise ConfigError(f"--set {text!r}: {part!r} is a value, not a table")
        section = _section(cls, path)
        table[path[-1]] = _merged(table.get(path[-1]), value, section) if section else value
    return raw


def _section(cls: type, path: list[str]) -> type | None:
    """The dataclass of the config section at dotted ``path`` (None for a plain value or a table
    of free keys such as ``sweep.values``, which a ``--set`` replaces whole)."""
    own = {f.name for f in dataclasses.fields(cls)} - {"base"}
    hint = cls if cls is Config or path[0] in own else Config
    for part in path:
        hints = typing.get_type_hints(hint) if dataclasses.is_dataclass(hint) else {}
        if part not in hints:
            return None
        hint = hints[part]
    return hint if dataclasses.is_dataclass(hint) else None


def _merged(old: Any, new: Any, section: type) -> Any:
    """``--set 'plot={levels=5}'`` sets the keys it names and keeps the section's others (from the
    file or an earlier ``--set``), nested sections alike."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return new
    hints = typing.get_type_hints(section)
    return {
        **old,
        **{
            k: _merged(old.get(k), v, hints[k]) if dataclasses.is_dataclass(hints.get(k)) else v for k, v in new.items()
        },
    }


def config_from_dict(
    raw: dict, source: str = "<dict>", overrides: typing.Sequence[str] = (), cls: type = Config
) -> Any:
    """Builds a :class:`Config` (or a study's config ``cls``) from nested dicts, with overrides.

    Args:
        raw: the parsed TOML (or ``config.json``) tables.
        source: the file name used in error messages.
        overrides: strings ``"section.key=value"``.
        cls: :class:`Config`, or a study's frozen dataclass with a ``base: Config`` field.

    Raises:
        ConfigError: unknown key, wrong type or impossible value, naming key, value and source.
    """
    raw = _apply_overrides(raw, overrides, cls)
    where = source + (f" (with --set {' '.join(overrides)})" if overrides else "")
    if cls is Config:
        return _build(Config, raw, "", where)
    own = {f.name for f in dataclasses.fields(cls)} - {"base"}
    base = _build(Config, {k: v for k, v in raw.items() if k not in own}, "", where)
    for key in getattr(cls, "IGNORES", ()):  # set to anything but its default: refused, not silently dropped
        value, default = (functools.reduce(getattr, key.split("."), c) for c in (base, Config()))
        if value != default:
            raise ConfigError(
                f"{where}: {key} is set, but this experiment does not use it "
                f"(it ignores {', '.join(cls.IGNORES)}); remove it"
            )
    return _build(cls, {k: v for k, v in raw.items() if k in own}, "", where, base=base)


def load_config(path: str | Path, overrides: typing.Sequence[str] = (), cls: type = Config) -> Any:
    """Reads a TOML config file and applies overrides; see :func:`config_from_dict`."""
    return config_from_dict(read_toml(path), str(path), overrides, cls)


def config_to_dict(cfg) -> dict:
    """The resolved config as plain JSON-ready dicts (tuples become lists, unset stays None); a
    study's ``base`` is flattened into the top level, as its TOML file has it."""
    raw = dataclasses.asdict(cfg)
    return {**raw.pop("base"), **raw} if "base" in raw else raw


def replace_key(cfg, key: str, value):
    """``cfg`` with the dotted ``key`` replaced by ``value``, validated like any config
    (``dataclasses.replace`` runs each section's checks; a failed one raises ConfigError)."""

    def replace(section, path):
        head, *rest = path
        return dataclasses.replace(section, **{head: replace(getattr(section, head), rest) if rest else value})

    try:
        return replace(cfg, key.split("."))
    except Invalid as err:
        raise ConfigError(f"{key} = {value!r}: expected {err.args[1]}") from None
