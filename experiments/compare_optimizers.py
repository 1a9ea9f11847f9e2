"""Race every configured optimizer to the optimum of each configured problem.

    python experiments/compare_optimizers.py configs/compare_optimizers.toml [--set key=value ...] [--out DIR]

For each problem (the config plus that problem's `--set`-style settings) the optimum is computed
once in float64 (undamped Newton to machine precision); every optimizer then starts from the same
θ. Prints a table of iterations and time (compile excluded, reported apart) to reach loss gaps of
1e-6 and 1e-10; writes config.json, results.csv (that table), curves.csv (the gap per iteration and
per second), metrics.json and convergence.png (log gap vs iteration and vs time, one line per optimizer).
"""

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from logreg_jax.cli import parse_args, run_main
from logreg_jax.config import Config, config_from_dict, config_to_dict
from logreg_jax.typedconfig import require
from logreg_jax.convergence import GAP_LEVELS, first_below, optimum, race
from logreg_jax.data import load_dataset
from logreg_jax.optim_plots import convergence_figure
from logreg_jax.runs import save_figure, staged_folder, write_config, write_json


@dataclass(frozen=True)
class CompareSection:
    optimizers: tuple[str, ...] = ("sgd", "momentum", "adam", "lbfgs", "newton")
    learning_rates: tuple[float, ...] = (5.0, 1.0, 0.1, 1.0, 1.0)  # one per optimizer
    problems: tuple[str, ...] = ("exam_scores",)  # names for the table and the figure
    problem_settings: tuple[tuple[str, ...], ...] = ((),)  # per problem: "key=value" overrides
    repeats: int = 5  # timed runs per optimizer; the median is reported

    def __post_init__(self):
        require(len(self.learning_rates) == len(self.optimizers), "learning_rates", "one per optimizer")
        require(len(self.problem_settings) == len(self.problems), "problem_settings", "one list per problem")
        require(self.repeats >= 1, "repeats", "an integer >= 1")


@dataclass(frozen=True)
class CompareConfig(Config):
    compare: CompareSection = field(default_factory=CompareSection)


COLUMNS = ["problem", "optimizer", "learning_rate", "iterations", "converged", "final_gap", "compile_s",
           "run_s"] + [f"{what}_to_{level:g}" for level in GAP_LEVELS for what in ("iterations", "ms")]


def main(argv=None):
    cfg, out = parse_args(argv, __doc__.splitlines()[0], cls=CompareConfig)
    raw = config_to_dict(cfg)
    del raw["compare"]
    rows, curves, optima = [], {}, {}
    for problem, settings in zip(cfg.compare.problems, cfg.compare.problem_settings):
        base = config_from_dict(raw, f"compare.problems {problem}", settings)
        data = load_dataset(base.data.path)
        best, best_grad = optimum(base, data)
        optima[problem] = {"loss": best, "grad_norm": best_grad}
        print(f"{problem}: optimal loss {best:.17g} (float64 Newton, |grad| {best_grad:.1e})")
        curves[problem] = {}
        for name, lr in zip(cfg.compare.optimizers, cfg.compare.learning_rates):
            run_cfg = dataclasses.replace(base, optimizer=dataclasses.replace(base.optimizer, name=name, learning_rate=lr))
            r = race(run_cfg, data, best, cfg.compare.repeats)
            curves[problem][name] = r
            row = {"problem": problem, "optimizer": name, "learning_rate": lr, "iterations": r.iterations,
                   "converged": r.converged, "final_gap": float(r.gap[-1]), "compile_s": r.compile_s, "run_s": r.run_s}
            for level in GAP_LEVELS:
                its, secs = first_below(r, level)
                row[f"iterations_to_{level:g}"] = its
                row[f"ms_to_{level:g}"] = None if secs is None else secs * 1e3
            rows.append(row)
    print_table(rows)
    with staged_folder(out) as folder:
        write_config(folder / "config.json", cfg)
        write_json(folder / "metrics.json", {"optima": optima, "results": rows})
        with open(folder / "results.csv", "w") as f:
            f.write(",".join(COLUMNS) + "\n")
            for row in rows:
                f.write(",".join(fmt(row[c]) for c in COLUMNS) + "\n")
        with open(folder / "curves.csv", "w") as f:
            f.write("problem,optimizer,iteration,seconds,gap\n")
            for problem, runs in curves.items():
                for name, r in runs.items():
                    for i, (gap, secs) in enumerate(zip(r.gap, r.seconds)):
                        f.write(f"{problem},{name},{i},{secs:.6g},{gap:.17g}\n")
        save_figure(convergence_figure({p: {n: (r.gap, r.seconds) for n, r in runs.items()}
                                        for p, runs in curves.items()}), folder / "convergence.png")
    print(f"wrote {out}/")


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def print_table(rows):
    """The results as a Markdown table (iterations, and ms compile excluded, to each gap)."""
    levels = " | ".join(f"to {level:g}: iterations, ms" for level in GAP_LEVELS)
    print(f"\n| problem | optimizer | lr | iterations | final gap | compile s | run ms | {levels} |")
    print("|" + " --- |" * (7 + len(GAP_LEVELS)))
    for r in rows:
        reach = " | ".join("not reached" if r[f"iterations_to_{lv:g}"] is None else
                           f"{r[f'iterations_to_{lv:g}']}, {r[f'ms_to_{lv:g}']:.2f}" for lv in GAP_LEVELS)
        print(f"| {r['problem']} | {r['optimizer']} | {r['learning_rate']:g} | {r['iterations']} | "
              f"{r['final_gap']:.1e} | {r['compile_s']:.2f} | {r['run_s'] * 1e3:.2f} | {reach} |")
    print()


if __name__ == "__main__":
    run_main(main)
