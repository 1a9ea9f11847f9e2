"""Race every configured optimizer to the optimum of each configured problem.

    python experiments/compare_optimizers.py configs/compare_optimizers.toml [--set key=value ...] [--out DIR]

For each problem (the config plus that problem's `--set`-style settings) the optimum is computed
once in float64 (undamped Newton to machine precision); every optimizer then starts from the same
θ. Prints a table of iterations and time (compile excluded, reported apart) to reach loss gaps of
1e-6 and 1e-10; writes config.json, results.csv (that table), curves.csv (the gap per iteration and
per second), metrics.json and convergence.png (log gap vs iteration and vs time, one line per optimizer).
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
if __name__ == "__main__":  # Ctrl-C while the imports below load: one line, no traceback
    # os._exit: an exception raised here could land in a callback that swallows it (XLA's gc hook).
    signal.signal(signal.SIGINT, lambda *_: (sys.stderr.write("interrupted\n"), os._exit(130)))  # run_main re-arms it

from logreg_jax.cli.args import parse_args, run_main
from logreg_jax.cli.progress import Progress
from logreg_jax.runs.staging import staged_folder, write_csv, write_json
from logreg_jax.runs.store import save_figure, write_config
from logreg_jax.studies.optimizers import COLUMNS, OptimizersConfig, convergence_figure, gap_rows, race_all, race_table


def main(argv=None):
    cfg, out = parse_args(argv, __doc__.splitlines()[0], cls=OptimizersConfig)
    with Progress(len(cfg.compare.problems), "problem") as progress:
        rows, races, optima = race_all(
            cfg,
            callback=lambda problem, loss, grad: progress.start(
                f"racing on {problem}",
                result=f"{problem}: optimal loss {loss:.17g} (float64 Newton, |grad| {grad:.1e})",
            ),
        )
    print(f"\n{race_table(rows)}\n")
    with staged_folder(out, "compare_optimizers") as folder:
        write_config(folder / "config.json", cfg)
        write_json(folder / "metrics.json", {"optima": optima, "results": rows})
        write_csv(folder / "results.csv", rows, COLUMNS)
        write_csv(folder / "curves.csv", gap_rows(races), ["problem", "optimizer", "iteration", "seconds", "gap"])
        save_figure(
            convergence_figure({p: {n: (r.gap, r.seconds) for n, r in runs.items()} for p, runs in races.items()}),
            folder / "convergence.png",
        )
    print(f"wrote {out}/")


if __name__ == "__main__":
    run_main(main)
