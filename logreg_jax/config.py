"""Experiment configuration: frozen dataclasses, TOML files and typed ``--set`` overrides.

Every default lives here, in the dataclass fields. A TOML file sets any subset of them; a
command-line override ``--set section.key=value`` is parsed as a TOML value and applied on top.
Unknown keys, wrongly typed values and impossible values are rejected with a
:class:`~logreg_jax.errors.ConfigError` naming the file, the key and the value.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logreg_jax.mlp import ACTIVATIONS
from logreg_jax.typedconfig import build, parse_override, read_toml, require

MODELS = ("logistic", "mlp")
INITS = ("uniform", "zeros", "normal")
OPTIMIZERS = ("sgd", "momentum", "adam", "lbfgs", "newton")
DTYPES = ("float32", "float64")
SEEDS = "an integer in [-2**63, 2**63 - 1] (what jax.random.key accepts)"
MAX_GRID_POINTS = 4_000_000  # probability-map grid (2000 × 2000): every point is predicted at once


def valid_seed(seed: int) -> bool:
    return -2 ** 63 <= seed < 2 ** 63


@dataclass(frozen=True)
class SyntheticConfig:
    m: int = 0  # samples; 0 = off (data.path is read instead)
    d: int = 2  # features (Gaussian; labels from a logistic model, see logreg_jax/sources.py)
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

    def __post_init__(self):
        require(not (self.path == "xor" and self.synthetic.m > 0), "path",
                "a file or \"xor\", not both \"xor\" and data.synthetic (set synthetic.m = 0)")


@dataclass(frozen=True)
class FeaturesConfig:
    polynomial_degree: int = 1  # 1 = raw features; d > 1 maps 2 features to all monomials up to d
    standardize: bool = True  # mean 0 / std 1 per column, statistics of the training data

    def __post_init__(self):
        require(self.polynomial_degree >= 1, "polynomial_degree", "an integer >= 1")


@dataclass(frozen=True)
class ModelConfig:
    name: str = "logistic"  # logistic or mlp
    # logistic: uniform in [0, 1) as in the tutorial, zeros, or normal; mlp: uniform or normal,
    # each scaled to the layer's fan-in/fan-out (Glorot, He for relu)
    init: str = "uniform"
    hidden: tuple[int, ...] = (8, 8)  # mlp: units per hidden layer, any depth ([] = logistic)
    activation: str = "tanh"  # mlp: sigmoid, tanh or relu in the hidden layers

    def __post_init__(self):
        require(self.name in MODELS, "name", f"one of {', '.join(MODELS)}")
        require(self.init in INITS, "init", f"one of {', '.join(INITS)}")
        require(self.name != "mlp" or self.init != "zeros", "init",
                 "uniform or normal for the mlp (with all-zero weights every hidden unit gets the "
                 "same gradient, so they never become different)")
        require(all(h >= 1 for h in self.hidden), "hidden", "a list of integers >= 1 (units per layer)")
        require(self.activation in ACTIVATIONS, "activation", f"one of {', '.join(ACTIVATIONS)}")


@dataclass(frozen=True)
class LossConfig:
    l2: float = 0.0  # penalty (l2 / 2m) * sum of squared weights, bias excluded

    def __post_init__(self):
        require(math.isfinite(self.l2) and self.l2 >= 0, "l2", "a finite number >= 0")


@dataclass(frozen=True)
class OptimizerConfig:
    name: str = "sgd"  # sgd, momentum, adam, lbfgs, newton
    learning_rate: float = 1.0  # unused by lbfgs and newton, whose line searches pick each step
    momentum: float = 0.9  # used by "momentum"
    nesterov: bool = False  # used by "momentum"
    memory_size: int = 10  # used by "lbfgs": past steps kept to approximate the curvature
    damping: float = 0.1  # newton: solves (H + damping·‖∇C‖·I) d = −∇C, see logreg_jax/newton.py

    def __post_init__(self):
        require(self.name in OPTIMIZERS, "name", f"one of {', '.join(OPTIMIZERS)}")
        require(math.isfinite(self.learning_rate) and self.learning_rate > 0, "learning_rate",
                 "a finite number > 0")
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
        require(self.num_processes == 1 or ":" in self.coordinator, "coordinator",
                 "host:port of process 0 when num_processes > 1")
        require(self.num_processes == 1 or self.data_parallel, "data_parallel",
                 "true when num_processes > 1")
        require(self.timeout_s >= 1, "timeout_s", "an integer >= 1 (seconds)")


@dataclass(frozen=True)
class PredictConfig:
    points: tuple[tuple[float, ...], ...] = ((45.0, 85.0),)  # raw feature values to predict

    def __post_init__(self):
        require(all(math.isfinite(v) for p in self.points for v in p), "points",
                "lists of finite numbers (NaN and inf cannot be predicted)")


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
        require(_is_colormap(self.cmap), "cmap", "the name of a matplotlib colormap, e.g. RdYlBu or viridis")
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
        counts = [int((hi - lo) / self.step + 0.5) + 1 for lo, hi in ranges]  # as plots.grid_axes
        if any(c < 2 for c in counts):
            return (f"a step at most the plot range ({' and '.join(f'{hi - lo:g}' for lo, hi in ranges)}), "
                    "so that the grid has 2 points per axis at least")
        if math.prod(counts) > MAX_GRID_POINTS:
            return (f"a step that gives at most {MAX_GRID_POINTS:,} grid points (this one gives "
                    f"{' × '.join(map(str, counts))}, too many to predict in memory)")
        return None


def _is_colormap(name: str) -> bool:
    import matplotlib  # not pyplot: the registry of colormaps only, no figure machinery

    return name in matplotlib.colormaps


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

    def __post_init__(self):
        require(self.name.strip() != "" and "/" not in self.name, "name", "a non-empty name without '/'")
        require(valid_seed(self.seed), "seed", SEEDS)
        require(self.dtype in DTYPES, "dtype", f"one of {', '.join(DTYPES)}")


def config_from_dict(raw: dict, source: str = "<dict>", overrides: typing.Sequence[str] = (),
                     cls: type = Config) -> Any:
    """Builds a :class:`Config` from nested dicts, applying ``--set`` style overrides on top.

    Args:
        raw: the parsed TOML (or ``config.json``) tables.
        source: the file name used in error messages.
        overrides: strings ``"section.key=value"``.
        cls: the frozen dataclass to build; an experiment with keys of its own passes a subclass
            of :class:`Config` that adds them (with their defaults).

    Raises:
        ConfigError: unknown key, wrong type or impossible value, naming key, value and source.
    """
    return build(cls, raw, source, overrides)


def load_config(path: str | Path, overrides: typing.Sequence[str] = (), cls: type = Config) -> Any:
    """Reads a TOML config file and applies overrides; see :func:`config_from_dict`."""
    return config_from_dict(read_toml(path), str(path), overrides, cls)


def config_to_dict(cfg: Config) -> dict:
    """The resolved config as plain JSON-ready dicts (tuples become lists, unset stays None)."""
    return dataclasses.asdict(cfg)


__all__ = ["Config", "config_from_dict", "config_to_dict", "load_config", "parse_override", "require"]
