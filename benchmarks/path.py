"""The 100-λ lasso path on the breast-cancer data: logreg_jax's proximal Newton against saga, side by side.

    python benchmarks/path.py [--out benchmarks/RESULTS.md]

Same standardized features, same λ (l1_max down to l1_max / 100). JAX times include tracing and
compilation (first call in the process, persistent cache off); every JAX point must be certified to
duality gap ≤ 1e-8 · objective. saga runs ``LogisticRegression(solver="saga", l1_ratio=1, tol=1e-10,
warm_start=True)`` over the λ in order; the 5-fold CV runs ``LogisticRegressionCV`` over the same
stratified folds and the same per-row strengths (C = 1/(λ·mₖ/m), mₖ the mean fold size, as the
vmapped folds train at l1·mₖ/m), against the vmapped folds. Goal: path ≥ 5× faster.
"""

import argparse
import datetime
import os
import platform
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JAX_ENABLE_COMPILATION_CACHE", "false")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from results import write_sections  # noqa: E402  (benchmarks/results.py)
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV  # noqa: E402

import logreg_jax as lj  # noqa: E402
from logreg_jax.studies import path as study  # noqa: E402
from logreg_jax.studies import path_cv  # noqa: E402

GOAL = 5.0
TITLE = "## Lasso path (benchmarks/path.py)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = parser.parse_args()
    data = lj.load_dataset(ROOT / "data" / "breast_cancer.csv")
    X = np.asarray(data.X, np.float64)
    X, y = (X - X.mean(0)) / X.std(0), np.asarray(data.y, np.float64)
    jax.block_until_ready(jnp.zeros(1) + 1)  # backend start-up is the process's
    with jax.enable_x64(True):
        lmax, lams, l1s, l2s = study.path_grid(X, y, study.PathSection(points=100, ratio=0.01))
        start = time.perf_counter()
        res = jax.block_until_ready(study.fit_path(jnp.asarray(X), jnp.asarray(y), jnp.ones(y.size),
                                                   jnp.asarray(l1s), jnp.asarray(l2s), 1e-10))  # fmt: skip
        t_path = time.perf_counter() - start
        folds = path_cv.fold_weights(y, 5, jax.random.key(0))
        start = time.perf_counter()
        _, cv = jax.block_until_ready(path_cv.cv_path(jnp.asarray(X), jnp.asarray(y), jnp.asarray(folds),
                                                           jnp.asarray(l1s), jnp.asarray(l2s), 1e-10))  # fmt: skip
        t_cv = time.perf_counter() - start
    gap = float(np.max(np.asarray(res.gap) / np.asarray(res.objective)))
    cv_gap = float(np.max(np.asarray(cv.gap) / np.asarray(cv.objective)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = LogisticRegression(solver="saga", l1_ratio=1.0, tol=1e-10, max_iter=500_000, warm_start=True)
        start, diff = time.perf_counter(), 0.0
        for i, l1 in enumerate(l1s):
            clf.set_params(C=1 / l1).fit(X, y)
            diff = max(diff, float(np.max(np.abs(np.r_[clf.intercept_, clf.coef_[0]] - np.asarray(res.theta[i])))))
        t_saga = time.perf_counter() - start
        splits = [(np.flatnonzero(f == 1), np.flatnonzero(f == 0)) for f in folds]
        start = time.perf_counter()
        share = float(folds.sum(axis=1).mean()) / y.size  # each fold trains at l1 · mₖ / m (path_cv.cv_path)
        LogisticRegressionCV(Cs=list(1 / (l1s * share)), cv=splits, solver="saga", l1_ratios=(1.0,), tol=1e-10,
                             max_iter=500_000, scoring="neg_log_loss").fit(X, y)  # fmt: skip
        t_saga_cv = time.perf_counter() - start
    rows = [
        ("100-λ path", t_path, t_saga, f"max gap/objective {gap:.1e}; largest weight difference to saga {diff:.1e}"),
        ("5-fold × 100-λ CV", t_cv, t_saga_cv, f"max gap/objective {cv_gap:.1e}"),
    ]
    lines = [
        TITLE,
        "",
        f"{datetime.date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"jax {jax.__version__}, scikit-learn {sklearn.__version__}; breast cancer 569 × 30 standardized, "
        f"λ from l1_max = {lmax:.7g} to l1_max/100, saga tol 1e-10 with warm starts. Goal: path ≥ {GOAL:g}×.",
        "",
        "| task | logreg_jax (s, compile incl.) | saga (s) | speed-up | check |",
        "|---|---|---|---|---|",
    ]
    for name, a, b, note in rows:
        lines.append(f"| {name} | {a:.2f} | {b:.2f} | {b / a:.1f}× | {note} |")
        print(f"{name}: logreg_jax {a:.2f} s, saga {b:.2f} s, {b / a:.1f}×; {note}")
    write_sections(Path(args.out), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
