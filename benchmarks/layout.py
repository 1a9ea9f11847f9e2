"""When does the feature-major layout pay? One epoch of gradient descent on (m, n) rows in memory
(logreg_jax.train.train) against the same epoch on feature-major blocks (logreg_jax.scale.train_blocks),
measured side by side for growing m at d = 32 float32 features; prints a Markdown table of ms per
epoch and the ratio and writes it into benchmarks/RESULTS.md. logreg_jax.route.FEATURE_MAJOR_BYTES
is chosen from it.

    python benchmarks/layout.py [--d 32] [--epochs 20] [--out benchmarks/RESULTS.md]
"""

import argparse
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from results import write_sections  # noqa: E402  (benchmarks/results.py)

from logreg_jax.cli.progress import Progress  # noqa: E402
from logreg_jax.loss import bound_objective  # noqa: E402
from logreg_jax.models.logistic import MODEL as LOGISTIC  # noqa: E402
from logreg_jax.scale import blocks, train_blocks  # noqa: E402
from logreg_jax.studies.timing import time_calls  # noqa: E402
from logreg_jax.train import train  # noqa: E402

TITLE = "## Row-major or feature-major (benchmarks/layout.py)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 300_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "RESULTS.md")
    args = parser.parse_args(argv)
    n, K, sgd = args.d + 1, args.epochs, optax.sgd(0.5)
    rng = np.random.default_rng(0)
    lines = ["| m | MiB of inputs | rows ms/epoch | blocks ms/epoch | rows / blocks |", "|---|---|---|---|---|"]
    print("\n".join(lines))
    progress = Progress(len(args.sizes), "size")
    for m in args.sizes:
        X = np.concatenate([np.ones((m, 1)), rng.standard_normal((m, args.d))], axis=1).astype(np.float32)
        y = (rng.random(m) < 0.5).astype(np.float32)
        Xj, yj, theta0 = jnp.asarray(X), jnp.asarray(y), jnp.zeros(n, jnp.float32)
        fm = blocks.from_rows(X, y)
        rows = lambda: train(bound_objective(LOGISTIC, Xj, yj), theta0, optimizer=sgd, epochs=K, chunk=K)[0]
        blk = lambda: train_blocks(LOGISTIC, theta0, fm, optimizer=sgd, epochs=K, chunk=K)[0]
        t_rows, t_blk = [], []
        for _ in range(3):  # alternating rounds: load from other processes hits both alike
            t_rows.append(time_calls(rows, repeats=2)[1] / K)
            t_blk.append(time_calls(blk, repeats=2)[1] / K)
        r, b = min(t_rows), min(t_blk)
        lines.append(f"| {m:,} | {X.nbytes / 2**20:.1f} | {r * 1e3:.3f} | {b * 1e3:.3f} | {r / b:.2f} |")
        progress.advance(f"m = {m:,}", result=lines[-1])
    progress.close()
    intro = (
        f"One epoch of gradient descent (d = {args.d} float32 features + bias) on (m, n) rows in memory\n"
        "(`logreg_jax.train.train`) and on feature-major blocks (`logreg_jax.scale.train_blocks`), measured\n"
        f"side by side ({os.cpu_count()} cores, {platform.machine()}); the best of 3 rounds of the median of 2 calls:"
    )
    outro = (
        "The row layout wins on small data and the blocks on large data; `logreg_jax.route.FEATURE_MAJOR_BYTES`\n"
        "(4 MiB) sits between the sizes where each wins: in-memory data of at least that size train\n"
        "feature-major through `logreg_jax.scale`."
    )
    write_sections(args.out, "\n\n".join([TITLE, intro, "\n".join(lines), outro]))


if __name__ == "__main__":
    main()
