"""Which training rows a fitted model rests on: exact leave-one-out against influence functions.

    python experiments/influence.py CONFIG [--set ...] [--out DIR]

For a logistic or softmax training config with a held-out set (data.test_fraction or
data.test_path), it fits the model, refits it without each training row in one batched Newton
solve (float64), and compares the change of the mean held-out loss with the influence-function
and one-step Newton predictions. Writes runs/<name>/ with config.json, metrics.json,
influence.csv, scatter.png and point.png (the rows that helped and hurt ``influence.point``).
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
if __name__ == "__main__":  # Ctrl-C while the imports below load: one line, no traceback
    signal.signal(signal.SIGINT, lambda *_: (sys.stderr.write("interrupted\n"), os._exit(130)))  # run_main re-arms it

import numpy as np

from logreg_jax.cli.args import parse_args, run_main
from logreg_jax.runs.staging import staged_folder, write_csv, write_json
from logreg_jax.runs.store import save_figure, write_config
from logreg_jax.studies.influence import (
    COLUMNS,
    InfluenceConfig,
    check_study,
    influence_study,
    point_figure,
    scatter_figure,
)


def main(argv=None):
    cfg, out = parse_args(argv, __doc__.splitlines()[0], cls=InfluenceConfig)
    check_study(cfg)
    base = cfg.base
    print(
        f"{base.name}: {base.model.name} on {base.data.path}, λ = {base.loss.l2:g}, leave-one-out of every training row"
    )
    study = influence_study(cfg)
    m = study.metrics
    print(f"{m['n_rows']} refits in {m['refit_seconds']:.2f} s (compilation included)")
    for name in ("influence", "newton"):
        print(
            f"{name:>9}: Pearson {m[f'pearson_{name}']:.4f}, Spearman {m[f'spearman_{name}']:.4f}, "
            f"max |error| {m[f'max_abs_error_{name}']:.3g} (row {m[f'worst_row_{name}']})"
        )
    print(f"largest exact effect: row {m['largest_exact_row']}, Δ held-out loss {m['largest_exact_loo']:+.4g}")
    columns = [c for c in COLUMNS if c in study.rows[0]]
    fitted = study.fitted
    with staged_folder(out, "influence") as folder:
        write_config(folder / "config.json", cfg)
        write_json(folder / "metrics.json", m)
        write_csv(folder / "influence.csv", study.rows, columns)
        save_figure(
            scatter_figure(study, f"{base.name}: removing each training row, predicted against refitted"),
            folder / "scatter.png",
        )
        save_figure(
            point_figure(
                study,
                np.asarray(fitted.data.X),
                np.asarray(fitted.data.y),
                cfg.influence.top,
                f"{base.name}: the training rows that helped and hurt held-out point {m['point']} "
                f"(label {int(fitted.test.y[m['point']])})",
            ),
            folder / "point.png",
        )
    print(f"wrote {out}/")


if __name__ == "__main__":
    run_main(main)
