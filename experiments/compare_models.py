"""Models side by side on one dataset: probability maps, training and cross-validated accuracy.

    python experiments/compare_models.py configs/compare_models.toml [--set ...] [--out DIR]

The config's own sections (data, seed, plot, ...) are shared; each entry of ``panels`` is a list
of ``key=value`` overrides applied on top of them to make one model's config (``titles`` names
them). Each model is fitted on all the data and cross-validated on the same stratified folds.
Prints a table and writes runs/<name>/ with config.json, metrics.json, results.csv and
models.png. On the microchips it should show logistic regression on the raw features failing
(~55 %), and degree-6 features with L2 and the MLP on the raw features both near 83 % or more.
"""

import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
if __name__ == "__main__":  # Ctrl-C while the imports below load: one line, no traceback
    signal.signal(signal.SIGINT, lambda *_: sys.exit("interrupted"))  # run_main re-arms it

import jax
import numpy as np

import logreg_jax as lj
from logreg_jax.cli import parse_args, run_main
from logreg_jax.cv import CVConfig, fit_and_score
from logreg_jax.typedconfig import require
from logreg_jax.plots import panels_figure
from logreg_jax.runs import save_figure, staged_folder, write_config, write_csv, write_json
from logreg_jax.sweep import base_config

COLUMNS = ("model", "n_params", "train_loss", "train_accuracy", "grad_norm", "val_accuracy_mean",
           "val_accuracy_std", "val_loss_mean", "val_loss_std", "cv_train_accuracy_mean")


@dataclass(frozen=True)
class CompareConfig(lj.Config):
    titles: tuple[str, ...] = ("logistic",)  # one per panel
    panels: tuple[tuple[str, ...], ...] = (("model.name=logistic",),)  # overrides per panel
    cv: CVConfig = field(default_factory=CVConfig)

    def __post_init__(self):
        super().__post_init__()
        require(len(self.panels) == len(self.titles) >= 1, "panels",
                 f"one list of overrides per title ({len(self.titles)} titles)")


def panel_configs(cfg: CompareConfig, source: str) -> list[lj.Config]:
    """The shared sections of ``cfg`` with each panel's overrides on top, as plain Configs."""
    return [base_config(cfg, overrides, f"{source} panels[{i}]") for i, overrides in enumerate(cfg.panels)]


def main(argv=None):
    cfg, out = parse_args(argv, __doc__.splitlines()[0], cls=CompareConfig)
    configs = panel_configs(cfg, cfg.name)
    data = lj.load_data(cfg)
    if data.X.shape[1] != 2:
        raise lj.DataError(f"{cfg.data.path}: {data.X.shape[1]} features; the probability maps need 2")
    lj.stratified_kfold(data.y, cfg.cv.k, key=jax.random.key(cfg.cv.seed))  # a bad k fails before any fit
    print(f"{cfg.name}: {len(configs)} models on {cfg.data.path}, {cfg.cv.k}-fold CV")
    print(f"{'model':<48} {'params':>6} {'train loss':>10} {'train acc':>9} {'CV acc (mean ± std)':>20}")
    rows, fits, folds = [], [], {}
    for title, panel in zip(cfg.titles, configs):
        fitted, scores, cv = fit_and_score(panel, data, k=cfg.cv.k, key=jax.random.key(cfg.cv.seed))
        row = {"model": title, "n_params": sum(np.size(p) for p in jax.tree_util.tree_leaves(fitted.params)),
               **scores}
        print(f"{title:<48} {row['n_params']:>6} {row['train_loss']:>10.4f} {row['train_accuracy']:>9.3f} "
              f"{row['val_accuracy_mean']:>13.3f} ± {row['val_accuracy_std']:.3f}")
        rows.append(row)
        fits.append(fitted)
        folds[title] = cv["folds"]
    panels = [(lambda pts, f=f: lj.predict(f, pts),
               f"{r['model']}\ntraining accuracy {r['train_accuracy']:.3f}, "
               f"{cfg.cv.k}-fold CV {r['val_accuracy_mean']:.3f} ± {r['val_accuracy_std']:.3f}")
              for f, r in zip(fits, rows)]
    fig = panels_figure(panels, data.X, data.y, cfg.plot, f"{cfg.name}: P(y = 1) and the P = 0.5 boundary",
                        cfg.plot.axis_labels or data.feature_names, cfg.plot.class_names)
    with staged_folder(out) as folder:
        write_config(folder / "config.json", cfg)
        write_json(folder / "metrics.json", {"k": cfg.cv.k, "models": rows, "folds": folds})
        write_csv(folder / "results.csv", rows, COLUMNS)
        save_figure(fig, folder / "models.png")
    print(f"wrote {out}/")


if __name__ == "__main__":
    run_main(main)
