"""Redraw the figures of a run folder from its saved config and parameters, without training.

    python experiments/replot.py runs/exam_scores [--set plot.levels=10 ...]

Overrides may only touch the plot section; the figures in the folder are replaced in place.
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
if __name__ == "__main__":  # Ctrl-C while the imports below load: one line, no traceback
    # os._exit: an exception raised here could land in a callback that swallows it (XLA's gc hook).
    signal.signal(signal.SIGINT, lambda *_: (sys.stderr.write("interrupted\n"), os._exit(130)))  # run_main re-arms it

from logreg_jax.cli.args import ArgumentParser, run_main
from logreg_jax.config import config_from_dict, config_to_dict
from logreg_jax.errors import ConfigError
from logreg_jax.runs.painter import InProcess
from logreg_jax.runs.run_figures import coefficient_job, fit_figure_jobs
from logreg_jax.runs.store import load_fit, read_metrics, write_png


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder written by experiments/train.py")
    parser.add_argument("--set", action="append", default=[], metavar="plot.KEY=VALUE")
    args = parser.parse_args(argv)
    for text in args.set:
        if not text.startswith("plot."):
            raise ConfigError(f"--set {text!r}: only plot.* keys can change without retraining")
    fitted = load_fit(args.run)
    cfg = config_from_dict(config_to_dict(fitted.cfg), str(args.run / "config.json"), args.set)
    jobs, notes = fit_figure_jobs(fitted._replace(cfg=cfg))
    coefficients = coefficient_job(fitted, read_metrics(args.run))  # from the stored table: no refit
    painter = InProcess()
    for job in jobs + ([coefficients] if coefficients else []):
        painter.draw(job)
    for name, png in painter.finish().items():
        write_png(args.run / name, png)
    for note in notes:
        print(note)
    print(f"redrew the figures in {args.run}/")


if __name__ == "__main__":
    run_main(main)
