"""Models side by side on one dataset: probability maps, training and cross-validated accuracy.

    python experiments/compare_models.py configs/compare_models.toml [--set ...] [--out DIR]

The config's own sections (data, seed, plot, ...) are shared; each entry of ``panels`` is a list
of ``key=value`` overrides applied on top of them to make one model's config (``titles`` names
them). Each model is fitted on all the data and cross-validated on the same stratified folds.
Prints a table and writes runs/<name>/ with config.json, metrics.json, results.csv and
models.png. On the microchips it should show logistic regression on the raw features failing
(~55 %), and degree-6 features with L2 and the MLP on the raw features both near 83 % or more.
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
if __name__ == "__main__":  # Ctrl-C while the imports below load: one line, no traceback
    # os._exit: an exception raised here could land in a callback that swallows it (XLA's gc hook).
    signal.signal(signal.SIGINT, lambda *_: (sys.stderr.write("interrupted\n"), os._exit(130)))  # run_main re-arms it

import jax

import logreg_jax as lj
from logreg_jax.cli.args import parse_args, run_main
from logreg_jax.cli.progress import Progress
from logreg_jax.data.splits import stratified_kfold
from logreg_jax.report.fit_figures import panels_figure
from logreg_jax.report.grids import probability_grid
from logreg_jax.runs.staging import staged_folder, write_csv, write_json
from logreg_jax.runs.store import save_figure, write_config
from logreg_jax.studies.models import COLUMNS, ModelsConfig, compare_models


def main(argv=None):
    cfg, out = parse_args(argv, __doc__.splitlines()[0], cls=ModelsConfig)
    base = cfg.base
    data = lj.load_data(base)
    if data.X.shape[1] != 2:
        raise lj.DataError(f"{base.data.path}: {data.X.shape[1]} features; the probability maps need 2")
    stratified_kfold(data.y, cfg.cv.k, key=jax.random.key(cfg.cv.seed))  # a bad k fails before any fit
    print(f"{base.name}: {len(cfg.panels)} models on {base.data.path}, {cfg.cv.k}-fold CV")
    print(f"{'model':<48} {'params':>6} {'train loss':>10} {'train acc':>9} {'CV acc (mean ± std)':>20}")
    with Progress(len(cfg.panels), "model") as progress:
        rows, fits, folds = compare_models(
            cfg,
            data,
            callback=lambda row: progress.advance(
                row["model"],
                result=(
                    f"{row['model']:<48} {row['n_params']:>6} {row['train_loss']:>10.4f} {row['train_accuracy']:>9.3f} "
                    f"{row['val_accuracy_mean']:>13.3f} ± {row['val_accuracy_std']:.3f}"
                ),
            ),
        )
    panels = [
        (
            probability_grid(lambda pts, f=f: lj.predict_proba(f, pts)[:, 1], data.X, base.plot),
            f"{r['model']}\ntraining accuracy {r['train_accuracy']:.3f}, "
            f"{cfg.cv.k}-fold CV {r['val_accuracy_mean']:.3f} ± {r['val_accuracy_std']:.3f}",
        )
        for f, r in zip(fits, rows)
    ]
    fig = panels_figure(
        panels,
        data.X,
        data.y,
        f"{base.name}: P(y = 1) and the P = 0.5 boundary",
        base.plot.axis_labels or data.feature_names,
        base.plot.class_names,
    )
    with staged_folder(out, "compare_models") as folder:
        write_config(folder / "config.json", cfg)
        write_json(folder / "metrics.json", {"k": cfg.cv.k, "models": rows, "folds": folds})
        write_csv(folder / "results.csv", rows, COLUMNS)
        save_figure(fig, folder / "models.png")
    print(f"wrote {out}/")


if __name__ == "__main__":
    run_main(main)
