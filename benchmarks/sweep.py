"""Benchmark: a hyperparameter sweep in one vmapped, compiled call vs the same fits one by one.

    python benchmarks/sweep.py [configs/sweep_lr.toml] [--set key=value ...] [--repeats N]

The default is configs/sweep_lr.toml: 64 learning rates × 8 seeds, sgd, 200 epochs, 512 fits.
  - vmapped: all members in one jit(vmap(member)) call;
  - loop: jit(member) compiled once (hyperparameters are traced arguments), then called for each
    member in a Python loop, waiting for each result as separate runs would;
  - lj.fit: what experiments/train.py does per member (a fresh optimizer each, so it recompiles),
    timed on a few members and scaled to all of them.
Compile time is reported apart from run time; the ratios are end to end (compile + run), all
measured side by side in this one process. Run times are the median over --repeats.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

import jax
import jax.numpy as jnp
import numpy as np

import logreg_jax as lj
from logreg_jax.cli.progress import Progress
from logreg_jax.config import load_config
from logreg_jax.fit import precision, prepare
from logreg_jax.studies.sweeps import SweepConfig, grid, hyperparameters, member_config, member_fn


def timed(fn):
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    return out, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="configs/sweep_lr.toml")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fit-samples", type=int, default=64, help="members timed through lj.fit")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.set, cls=SweepConfig)
    base = cfg.base
    data = lj.load_data(base)
    values = grid(cfg)
    model, _, X = prepare(base, data)
    with precision(base), Progress(3, "stage") as progress:
        X, y = jnp.asarray(X), jnp.asarray(data.y, X.dtype)
        hyper = hyperparameters(base, values, X.dtype)
        k = int(hyper["seed"].shape[0])
        one = member_fn(model, base.model, base.optimizer.name, base.optimizer.nesterov, base.train.epochs, X.shape[1])
        print(
            f"{jax.devices()[0].device_kind} ({jax.default_backend()}), {k} members, "
            f"{base.optimizer.name}, {base.train.epochs} epochs, {base.dtype}"
        )

        progress.start(f"the {k} members in one vmapped call")
        vmapped, vmap_compile = timed(
            lambda: jax.jit(jax.vmap(one, in_axes=(0, None, None))).lower(hyper, X, y).compile()
        )
        runs = [timed(lambda: vmapped(hyper, X, y)) for _ in range(args.repeats)]
        vmap_final, vmap_run = runs[0][0][3], float(np.median([t for _, t in runs]))

        progress.start(f"the {k} members one by one, compiled once")
        members = [{key: v[i] for key, v in hyper.items()} for i in range(k)]
        single, loop_compile = timed(lambda: jax.jit(one).lower(members[0], X, y).compile())

        def loop():
            return jnp.stack([jax.block_until_ready(single(h, X, y))[3] for h in members])

        runs = [timed(loop) for _ in range(args.repeats)]
        loop_final, loop_run = runs[0][0], float(np.median([t for _, t in runs]))

        progress.start(f"{min(args.fit_samples, k)} members through lj.fit")
        sample = np.linspace(0, k - 1, min(args.fit_samples, k)).round().astype(int)
        start = time.perf_counter()
        for i in sample:
            lj.fit(member_config(cfg, values, int(i)), data)
        per_fit = (time.perf_counter() - start) / sample.size

    diff = float(np.nanmax(np.abs(np.asarray(vmap_final) - np.asarray(loop_final))))
    vmap_total, loop_total = vmap_compile + vmap_run, loop_compile + loop_run
    print(f"vmapped sweep:     compile {vmap_compile:6.2f} s  run {vmap_run:8.3f} s  total {vmap_total:8.2f} s")
    print(
        f"jitted loop:       compile {loop_compile:6.2f} s  run {loop_run:8.3f} s  total {loop_total:8.2f} s"
        f"   ({loop_total / vmap_total:.0f}x the vmapped sweep end to end, run alone {loop_run / vmap_run:.0f}x)"
    )
    print(
        f"lj.fit per member: {per_fit:.3f} s each (compiles each), {per_fit * k:.0f} s for {k} "
        f"(estimated from {sample.size})   ({per_fit * k / vmap_total:.0f}x)"
    )
    print(f"max |final loss, vmapped − loop| = {diff:.2e}")


if __name__ == "__main__":
    main()
