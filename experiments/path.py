"""The L1 / elastic-net regularization path of logistic regression, with k-fold cross-validation.

    python experiments/path.py configs/breast_cancer_path.toml [--set ...] [--out DIR]

Computes l1_max exactly, solves ``path.points`` λ from it down to ``path.ratio``·λ_max by proximal
Newton, warm-started in one lax.scan, each certified by its duality gap; with ``path.folds = k``
cross-validates every λ (folds vmapped) and reports lambda_min and lambda_1se. Writes runs/<name>/
with config.json, metrics.json, path.csv, coefficients.png and (with folds) cv.png.
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
if __name__ == "__main__":  # Ctrl-C while the imports below load: one line, no traceback
    signal.signal(signal.SIGINT, lambda *_: (sys.stderr.write("interrupted\n"), os._exit(130)))  # run_main re-arms it

import time

import jax
import jax.numpy as jnp
import numpy as np

import logreg_jax as lj
from logreg_jax.cli.args import parse_args, run_main
from logreg_jax.runs.staging import staged_folder, write_csv, write_json
from logreg_jax.runs.store import save_figure, write_config
from logreg_jax.studies import path as study
from logreg_jax.studies import path_cv
from logreg_jax.studies.path_figures import coefficient_figure, cv_figure

RELATIVE_GAP = 1e-8  # every point must be certified to this duality gap / objective


def load(cfg):
    """(m, n) standardized X, (m,) y, feature names, the true weights or None."""
    if cfg.sparse_synthetic.m > 0:
        X, y, w = study.sparse_synthetic(cfg.sparse_synthetic)
        names = [f"x{j + 1}" for j in range(X.shape[1])]
    else:
        data = lj.load_data(cfg.base)
        X, y, w, names = np.asarray(data.X, np.float64), np.asarray(data.y, np.float64), None, data.feature_names
    std = X.std(axis=0)
    if np.any(std == 0):
        raise lj.DataError(f"{cfg.base.data.path}: feature {names[int(np.argmax(std == 0))]} is constant")
    return (X - X.mean(axis=0)) / std, y, list(names), w


def main(argv=None):
    cfg, out = parse_args(argv, __doc__.splitlines()[0], cls=study.PathConfig)
    problem = study.base_problem(cfg.base)
    if problem is not None:
        source = next((a for a in (sys.argv[1:] if argv is None else argv) if a.endswith(".toml")), "config")
        raise lj.ConfigError(f"{source}: {problem}")
    X, y, names, w_true = load(cfg)
    tol = cfg.base.train.tol or 1e-10
    with jax.enable_x64(True):
        lmax, lams, l1s, l2s = study.path_grid(X, y, cfg.path)
        args = (jnp.asarray(X), jnp.asarray(y))
        solver = {"max_iter": cfg.path.max_iter, "working_set": cfg.path.working_set}
        print(
            f"{cfg.base.name}: {X.shape[0]} × {X.shape[1]}, l1_max = {lmax:.10g}, {lams.size} λ, α = {cfg.path.l1_ratio:g}"
        )
        start = time.perf_counter()
        res = study.fit_path(*args, jnp.ones(X.shape[0]), jnp.asarray(l1s), jnp.asarray(l2s), tol, **solver)
        res = jax.tree_util.tree_map(np.asarray, res)
        print(f"path: {time.perf_counter() - start:.2f} s (compilation included), {int(res.steps.sum())} Newton steps")
        chosen = {}
        if cfg.path.folds:
            folds = path_cv.fold_weights(y, cfg.path.folds, jax.random.key(cfg.path.seed))
            start = time.perf_counter()
            dev, cv_res = jax.block_until_ready(  # dispatch is asynchronous: time the work itself
                path_cv.cv_path(*args, jnp.asarray(folds), jnp.asarray(l1s), jnp.asarray(l2s), tol, **solver)
            )
            print(f"{cfg.path.folds}-fold CV: {time.perf_counter() - start:.2f} s")
            chosen = path_cv.choose(lams, np.asarray(dev))
            cv_gap = float(np.max(np.asarray(cv_res.gap) / np.asarray(cv_res.objective)))
    rel = res.gap / res.objective
    certified = bool(np.all(rel <= RELATIVE_GAP))
    nnz = np.sum(res.theta[:, 1:] != 0, axis=1)
    rows = [
        {
            "l1": l1s[i],
            "l2": l2s[i],
            "train_loss": res.objective[i],
            "gap": res.gap[i],
            "n_nonzero": int(nnz[i]),
            "bias": res.theta[i, 0],
            **dict(zip(names, res.theta[i, 1:])),
        }
        for i in range(lams.size)
    ]
    metrics = {
        "l1_max": lmax,
        "l1_ratio": cfg.path.l1_ratio,
        "points": int(lams.size),
        "certified": certified,
        "max_relative_gap": float(rel.max()),
        "max_kkt": float(res.kkt.max()),
        "newton_steps": int(res.steps.sum()),
    }
    if chosen:
        metrics.update({k: chosen[k] for k in ("lambda_min", "lambda_1se", "cv_mean", "cv_se")})
        metrics["cv_max_relative_gap"] = cv_gap
        metrics["cv_certified"] = cv_gap <= RELATIVE_GAP
        print(
            f"lambda_min = {chosen['lambda_min']:.6g} ({nnz[chosen['index_min']]} nonzero), "
            f"lambda_1se = {chosen['lambda_1se']:.6g} ({nnz[chosen['index_1se']]} nonzero)"
        )
        if w_true is not None:
            found = res.theta[chosen["index_1se"], 1:] != 0
            truth = w_true != 0
            metrics["support_1se"] = {
                "true": int(truth.sum()),
                "false_negatives": int(np.sum(truth & ~found)),
                "false_positives": int(np.sum(~truth & found)),
            }
            s = metrics["support_1se"]
            print(
                f"lambda_1se support: {s['false_negatives']} false negatives, {s['false_positives']} false "
                f"positives (of {s['true']} true and {truth.size - s['true']} zero weights)"
            )
    print(
        f"largest duality gap / objective: {rel.max():.2e} ({'certified' if certified else 'NOT certified'} ≤ {RELATIVE_GAP:g})"
    )
    with staged_folder(out, "path") as folder:
        write_config(folder / "config.json", cfg)
        write_json(folder / "metrics.json", metrics)
        write_csv(folder / "path.csv", rows, ["l1", "l2", "train_loss", "gap", "n_nonzero", "bias", *names])
        title = f"{cfg.base.name}: α = {cfg.path.l1_ratio:g}"
        save_figure(coefficient_figure(lams, res.theta[:, 1:], names, title), folder / "coefficients.png")
        if chosen:
            save_figure(cv_figure(lams, chosen["cv_mean"], chosen["cv_se"], chosen, title), folder / "cv.png")
    print(f"wrote {out}/")


if __name__ == "__main__":
    run_main(main)
