"""Over- and underfitting on the microchips: one degree-6 fit and a k-fold CV per L2 strength λ.

    python experiments/regularization.py configs/microchips_regularization.toml [--set ...] [--out DIR]

For each λ in ``lambdas`` it fits the model on all the data (to convergence: the final gradient
norm is printed), cross-validates it on the same stratified folds, prints a table and the λ with
the best mean validation accuracy, and writes runs/<name>/ with config.json, metrics.json,
results.csv, boundaries.png and accuracy_vs_lambda.png. It should show λ = 0 separating the
training chips best with a contorted boundary, and λ = 100 underfitting (a near-constant model).
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
from logreg_jax.runs.staging import staged_folder, write_csv, write_json
from logreg_jax.runs.store import save_figure, write_config
from logreg_jax.studies.regularization import (
    COLUMNS,
    RegularizationConfig,
    accuracy_vs_lambda_figure,
    best_lambda,
    boundaries_figure,
    lambda_sweep,
)


def main(argv=None):
    cfg, out = parse_args(argv, __doc__.splitlines()[0], cls=RegularizationConfig)
    base = cfg.base
    data = lj.load_data(base)
    if data.X.shape[1] != 2:
        raise lj.DataError(f"{base.data.path}: {data.X.shape[1]} features; the boundary plots need 2")
    key = jax.random.key(cfg.cv.seed)
    stratified_kfold(data.y, cfg.cv.k, key=key)  # a bad cv.k stops here, before any output
    print(
        f"{base.name}: degree-{base.features.polynomial_degree} {base.model.name} on {base.data.path}, "
        f"{base.optimizer.name}, {base.train.epochs} epochs, {base.dtype}, {cfg.cv.k}-fold CV"
    )
    header = f"{'λ':>8} {'train loss':>11} {'train acc':>9} {'|grad|':>9} {'val acc (mean ± std)':>21} {'val loss':>9}"
    print(header)
    with Progress(len(cfg.lambdas), "λ") as progress:
        results = lambda_sweep(
            base,
            data,
            cfg.lambdas,
            k=cfg.cv.k,
            key=key,
            callback=lambda r: progress.advance(
                f"λ = {r.row['lambda']:g}",
                result=f"{r.row['lambda']:>8g} {r.row['train_loss']:>11.6f} "
                f"{r.row['train_accuracy']:>9.3f} {r.row['grad_norm']:>9.1e} {r.row['val_accuracy_mean']:>12.3f} ± "
                f"{r.row['val_accuracy_std']:.3f} {r.row['val_loss_mean']:>9.4f}",
            ),
        )
    best = best_lambda(results)
    metrics = {
        "best_lambda": best,
        "k": cfg.cv.k,
        "lambdas": [r.row for r in results],
        "folds": {f"{r.row['lambda']:g}": r.cv["folds"] for r in results},
    }
    names = base.plot.axis_labels or data.feature_names
    with staged_folder(out, "regularization") as folder:
        write_config(folder / "config.json", cfg)
        write_json(folder / "metrics.json", metrics)
        write_csv(folder / "results.csv", [r.row for r in results], COLUMNS)
        save_figure(
            boundaries_figure(
                results,
                base.plot,
                names,
                base.plot.class_names,
                f"{base.name}: degree-{base.features.polynomial_degree} features, boundary P = 0.5 per λ",
            ),
            folder / "boundaries.png",
        )
        save_figure(
            accuracy_vs_lambda_figure(results, best, f"{base.name}: accuracy against λ"),
            folder / "accuracy_vs_lambda.png",
        )
    print(f"best λ by mean validation accuracy: {best:g}")
    print(f"wrote {out}/")


if __name__ == "__main__":
    run_main(main)
