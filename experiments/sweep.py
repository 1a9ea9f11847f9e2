"""Train a grid of configurations at once (jax.vmap inside one compiled call) and compare them.

    python experiments/sweep.py configs/sweep_lr.toml [--set key=value ...] [--out DIR]

The grid is the config's [sweep] table (values / linspace / logspace lists per config key: seed,
loss.l2, optimizer.learning_rate, optimizer.momentum, optimizer.damping, train.tol). Prints the
compile and run times and the best setting (lowest median final loss over seeds, diverged
excluded); writes config.json, sweep.csv (one row per member), metrics.json, sweep.png and curves.png.
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
if __name__ == "__main__":  # Ctrl-C while the imports below load: one line, no traceback
    # os._exit: an exception raised here could land in a callback that swallows it (XLA's gc hook).
    signal.signal(signal.SIGINT, lambda *_: (sys.stderr.write("interrupted\n"), os._exit(130)))  # run_main re-arms it

import numpy as np

from logreg_jax.cli.args import parse_args, run_main
from logreg_jax.cli.progress import Progress
from logreg_jax.runs.staging import staged_folder, write_csv, write_json
from logreg_jax.runs.store import save_figure, write_config
from logreg_jax.studies.sweep_figures import member_curves_figure, sweep_figure
from logreg_jax.studies.sweeps import SweepConfig, best_setting, curve_rows, member_rows, run_sweep


def main(argv=None):
    cfg, out = parse_args(argv, __doc__.splitlines()[0], cls=SweepConfig)
    with Progress(2, "stage") as progress:  # one compiled call: compiling, then training
        result = run_sweep(cfg, callback=progress.start)
    k = result.final_loss.size
    print(
        f"{cfg.base.name}: {k} members ({' × '.join(f'{np.unique(v).size} {key}' for key, v in result.values.items())}), "
        f"{cfg.base.optimizer.name}, {cfg.base.train.epochs} epochs, {cfg.base.dtype}: "
        f"compile {result.compile_s:.2f} s, run {result.run_s:.3f} s"
    )
    best = best_setting(result)
    n_div = int(result.diverged.sum())
    print(f"diverged: {n_div} of {k} members")
    if best:
        print(
            f"best: {best['setting']} → median final loss {best['median_final_loss']:.6g} "
            f"over {best['members']} member(s)"
        )
    metrics = {
        "members": k,
        "diverged": n_div,
        "best": best,
        "compile_s": result.compile_s,
        "run_s": result.run_s,
        "epochs": cfg.base.train.epochs,
        "best_member": {},
    }
    if n_div < k:
        i = int(np.argmin(np.where(result.diverged, np.inf, result.final_loss)))
        metrics["best_member"] = {
            **{key: float(v[i]) for key, v in result.values.items()},
            "final_loss": float(result.final_loss[i]),
        }
    x_key = cfg.sweep.x if cfg.sweep.x in result.values else next(iter(result.values), None)
    with staged_folder(out, "sweep") as folder:
        write_config(folder / "config.json", cfg)
        write_csv(folder / "sweep.csv", member_rows(result))
        write_json(folder / "metrics.json", metrics)
        if x_key is not None:
            save_figure(
                sweep_figure(
                    result.values,
                    result.final_loss,
                    result.diverged,
                    x_key,
                    f"{cfg.base.name}: {cfg.base.optimizer.name}, {cfg.base.train.epochs} epochs",
                ),
                folder / "sweep.png",
            )
        rows = curve_rows(result, x_key, cfg.sweep.curves)
        labels = [
            ", ".join(f"{key.split('.')[-1]} {v[i]:.3g}" for key, v in result.values.items())
            + (" (diverged)" if result.diverged[i] else "")
            for i in rows
        ]
        save_figure(
            member_curves_figure(result.loss[rows], labels, f"{cfg.base.name}: loss curves"), folder / "curves.png"
        )
    print(f"wrote {out}/")


if __name__ == "__main__":
    run_main(main)
