"""Models side by side on one dataset: each fitted on all the data and cross-validated on the same folds.

The base config's sections are shared; each panel is a list of ``key=value`` overrides applied on
top of them to make one model's config (``titles`` names them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import jax
import numpy as np

from logreg_jax.config import RUN_ONLY, Config, config_from_dict, config_to_dict, require
from logreg_jax.data.files import Dataset
from logreg_jax.fit import Fit
from logreg_jax.studies.cv import CVConfig, fit_and_score

COLUMNS = (
    "model",
    "n_params",
    "train_loss",
    "train_accuracy",
    "grad_norm",
    "val_accuracy_mean",
    "val_accuracy_std",
    "val_loss_mean",
    "val_loss_std",
    "cv_train_accuracy_mean",
)


@dataclass(frozen=True)
class ModelsConfig:
    """The shared base config, one title and one list of overrides per model, and ``[cv]``."""

    IGNORES: ClassVar[tuple[str, ...]] = RUN_ONLY
    base: Config = field(default_factory=Config)
    titles: tuple[str, ...] = ("logistic",)  # one per panel
    panels: tuple[tuple[str, ...], ...] = (("model.name=logistic",),)  # overrides per panel
    cv: CVConfig = field(default_factory=CVConfig)

    def __post_init__(self):
        require(
            len(self.panels) == len(self.titles) >= 1,
            "panels",
            f"one list of overrides per title ({len(self.titles)} titles)",
        )


def panel_configs(cfg: ModelsConfig) -> list[Config]:
    """The base config with each panel's overrides on top (a bad one is named by its panel)."""
    shared = config_to_dict(cfg.base)
    return [
        config_from_dict(shared, f"{cfg.base.name} panels[{i}]", overrides) for i, overrides in enumerate(cfg.panels)
    ]


def compare_models(cfg: ModelsConfig, data: Dataset, callback=None) -> tuple[list[dict], list[Fit], dict]:
    """Fits and cross-validates every panel's model on ``data``, all on the same folds.

    Args:
        cfg: the study config. data: the dataset.
        callback: called with each model's row as soon as it is known (progress).

    Returns:
        (rows with :data:`COLUMNS`, the fits on all the data, title → the per-fold results).
    """
    rows, fits, folds = [], [], {}
    for title, panel in zip(cfg.titles, panel_configs(cfg)):
        fitted, scores, cv = fit_and_score(panel, data, k=cfg.cv.k, key=jax.random.key(cfg.cv.seed))
        row = {"model": title, "n_params": sum(np.size(p) for p in jax.tree_util.tree_leaves(fitted.params)), **scores}
        if callback is not None:
            callback(row)
        rows.append(row)
        fits.append(fitted)
        folds[title] = cv["folds"]
    return rows, fits, folds
