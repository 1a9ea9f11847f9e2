"""Compare run folders side by side: the config keys that differ, the main metrics, the curves.

    python experiments/compare_runs.py runs/exam_scores runs/exam_scores_converged runs/microchips [--out DIR]

Prints a table with one row per run (its folder name, the dotted config keys whose values differ
between the runs, final loss, training and test accuracy where present, epochs, converged) and
writes DIR (default runs/comparison/) with comparison.md, comparison.csv and curves.png (loss and
gradient norm per iteration of every run). Paths that are not run folders are skipped with a note.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from logreg_jax.cli.args import ArgumentParser, run_main
from logreg_jax.runs.compare import collect, comparison_rows, curves_figure, markdown_table
from logreg_jax.runs.folder import check_not_input, check_out, run_kind
from logreg_jax.runs.staging import staged_folder, write_csv
from logreg_jax.runs.store import save_figure


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (a glob such as runs/* works)")
    parser.add_argument(
        "--out", type=Path, default=Path("runs") / "comparison", help="output folder (default runs/comparison)"
    )
    args = parser.parse_args(argv)
    # Before reading: never replace an input (an earlier comparison among runs/* is no input: it is skipped).
    check_not_input(args.out, [p for p in args.runs if run_kind(p) != "compare_runs"], str(args.out))
    check_out(args.out)
    runs, notes = collect(args.runs)
    for note in notes:
        print(note)
    rows, columns = comparison_rows(runs)
    table = markdown_table(rows, columns)
    print(f"{len(runs)} runs\n\n{table}\n")
    fig = curves_figure(runs, f"{len(runs)} runs: training curves")
    with staged_folder(args.out, "compare_runs") as folder:
        (folder / "comparison.md").write_text(f"# Runs compared\n\n{table}\n")
        write_csv(folder / "comparison.csv", rows, columns)
        if fig is not None:
            save_figure(fig, folder / "curves.png")
    if fig is None:
        print("curves.png skipped: no run has a history.csv")
    print(f"wrote {args.out}/")


if __name__ == "__main__":
    run_main(main)
