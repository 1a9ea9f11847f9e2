"""Train a model from a config and write its run folder.

    python experiments/train.py configs/exam_scores.toml [--set key=value ...] [--out DIR]

Prints the loss every ``train.log_every`` epochs, then the final loss, training accuracy and
predictions; writes runs/<name>/ with config.json, metrics.json, history.csv, params.npz,
decision_boundary.png and loss.png. On the exam scores it should reach ~89 % training accuracy.
For a logistic model it also prints the coefficient table (standard errors, tests, intervals; see
docs/inference.md), stores it in metrics.json under "inference", and draws coefficients.png.
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
if __name__ == "__main__":  # Ctrl-C while the imports below load: one line, no traceback
    # os._exit: an exception raised here could land in a callback that swallows it (XLA's gc hook).
    signal.signal(signal.SIGINT, lambda *_: (sys.stderr.write("interrupted\n"), os._exit(130)))  # run_main re-arms it
    from logreg_jax.runs.painter import Painter

    PAINTER = Painter.start()  # matplotlib loads in a second process while this one loads JAX

import logreg_jax as lj
from logreg_jax.cli.args import parse_args, run_main
from logreg_jax.cli.progress import Progress
from logreg_jax.config import data_name
from logreg_jax.report.inference import at_optimum, format_table, to_json
from logreg_jax.report.metrics import fit_inference
from logreg_jax.runs.painter import InProcess
from logreg_jax.runs.run_figures import fit_figure_jobs
from logreg_jax.runs.store import write_run


def main(argv=None, painter=None):
    """``painter``: where the figures are drawn (:mod:`logreg_jax.runs.painter`); None: in this process."""
    painter = painter or InProcess()
    cfg, out = parse_args(argv, __doc__.splitlines()[0])
    print(
        f"{cfg.name}: {cfg.model.name} on {data_name(cfg.data)}, {cfg.optimizer.name} "
        f"(lr {cfg.optimizer.learning_rate:g}), {cfg.train.epochs} epochs, {cfg.dtype}"
    )
    with Progress(cfg.train.epochs, "epoch") as progress:
        fitted = lj.fit_config(
            cfg, callback=lambda epoch, loss, gnorm: progress.update(epoch, f"loss {loss:.6f}, |grad| {gnorm:.3e}")
        )
    jobs, notes = fit_figure_jobs(fitted)
    for job in jobs:  # drawn while the metrics and inference below are computed
        painter.draw(job)
    metrics = lj.summarize(fitted)
    if cfg.inference.enabled and not fitted.model.inference:
        print(f"inference skipped: standard errors need a logistic model, not the {fitted.model.name}")
    elif cfg.inference.enabled and cfg.loss.l1 > 0:  # issue 21: Wald standard errors assume a smooth optimum
        print("inference skipped: standard errors after an L1 penalty (loss.l1 > 0) would ignore the selection")
        metrics["inference"] = {"refused": "loss.l1 > 0: no standard errors after L1 selection"}
    elif cfg.inference.enabled and fitted.rows is None:
        print("inference skipped: it reads every row into memory in float64, and these data are read at scale")
    elif cfg.inference.enabled:
        try:
            if cfg.inference.bootstrap:  # one compiled call that takes seconds: say what runs
                with Progress(1, "stage") as progress:
                    progress.start(f"inference: {cfg.inference.bootstrap} bootstrap refits")
                    result = fit_inference(fitted)
            else:
                result = fit_inference(fitted)
            metrics["inference"] = to_json(result)
        except lj.DataError as err:  # e.g. separated data: no finite estimate, no table; the fit is kept
            metrics["inference"] = {"refused": str(err)}
            metrics["warnings"].append(f"{err}")
    if metrics["converged"]:
        print(f"converged after {metrics['epochs']} iterations (|grad| <= train.tol = {cfg.train.tol:g})")
    write_run(out, fitted, metrics, painter)
    for note in notes:
        print(note)
    for warning in metrics["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    check = metrics["gradient_check"]
    print(
        f"final loss {metrics['final_loss']:.6f} (after the last step; each progress line shows the loss "
        f"at the start of its step), training accuracy {metrics['train_accuracy']:.3f}"
        + (f", gradient check {check:.2e}" if check is not None else "")
    )
    if "test_accuracy" in metrics:
        print(
            f"held-out loss {metrics['test_loss']:.6f}, held-out accuracy {metrics['test_accuracy']:.4f} "
            f"({metrics['n_test']} samples)"
        )
    for p in metrics.get("predictions", []):
        if isinstance(p["probability"], list):
            print(f"  P(y = k | x = {p['x']}) = " + ", ".join(f"{q:.4f}" for q in p["probability"]))
        else:
            print(f"  P(y = 1 | x = {p['x']}) = {p['probability']:.4f}")
    if "coef" in metrics.get("inference", {}) and not at_optimum(result):
        # standard errors describe the curvature at the optimum; short of it they mean nothing
        print(
            "coefficient table not printed: training has not converged, and standard errors hold only at "
            "the optimum (train to convergence: more train.epochs with train.tol, or optimizer.name = newton)"
        )
    elif "coef" in metrics.get("inference", {}):
        print(format_table(result))
    print(f"wrote {out}/")


if __name__ == "__main__":
    try:
        run_main(lambda: main(painter=PAINTER))
    finally:
        PAINTER.close()
