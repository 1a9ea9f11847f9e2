"""Make the figures of docs/multiclass.md: held-out confusion matrices, misclassified digits, and
the softmax probability map of Iris over its two petal measurements.

    python experiments/multiclass_figures.py [--out docs]

Trains configs/iris_softmax.toml, configs/digits_softmax.toml and configs/digits_mlp.toml (about a
minute on a laptop CPU) and prints their held-out accuracies.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

import numpy as np
from matplotlib.figure import Figure

import logreg_jax as lj
from logreg_jax.cli.args import ArgumentParser, run_main
from logreg_jax.config import replace_key
from logreg_jax.report.class_figures import class_map_figure, draw_confusion
from logreg_jax.report.classification import confusion_matrix
from logreg_jax.report.grids import probability_grid
from logreg_jax.runs.store import save_figure

CONFIGS = ("configs/iris_softmax.toml", "configs/digits_softmax.toml", "configs/digits_mlp.toml")
IRIS_SPECIES = ("setosa", "versicolor", "virginica")


def held_out(fitted):
    """(labels, probabilities) on the held-out rows."""
    return fitted.test.y.astype(int), lj.predict_proba(fitted, fitted.test.X)


def confusion_panels(fits) -> Figure:
    fig = Figure(figsize=(15, 5), layout="constrained")
    for ax, fitted in zip(fig.subplots(1, len(fits)), fits):
        y, prob = held_out(fitted)
        k = prob.shape[1]
        names = IRIS_SPECIES if k == 3 else [str(c) for c in range(k)]
        accuracy = np.mean(prob.argmax(1) == y)
        image = draw_confusion(
            ax,
            confusion_matrix(y, prob.argmax(1), k),
            names,
            f"{fitted.cfg.name}: held-out accuracy {accuracy:.3f} ({y.size})",
        )
    fig.colorbar(image, ax=fig.axes, label="share of the true class", shrink=0.8)
    return fig


def misclassified_digits(fitted, count: int = 12) -> Figure:
    """The held-out digits the model gets wrong, most confident mistakes first, as 8×8 images."""
    y, prob = held_out(fitted)
    wrong = np.flatnonzero(prob.argmax(1) != y)
    wrong = wrong[np.argsort(-prob[wrong].max(1))][:count]
    rows = -(-count // 6)
    fig = Figure(figsize=(9, 2.0 * rows + 0.4), layout="constrained")
    for ax in fig.subplots(rows, 6).ravel():
        ax.set_axis_off()
    for ax, i in zip(fig.axes, wrong):
        ax.imshow(fitted.test.X[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_title(f"{y[i]} → {prob[i].argmax()}  (p = {prob[i].max():.2f})", fontsize=9)
    fig.suptitle(f"{fitted.cfg.name}: misclassified held-out digits (true → predicted, its probability)")
    return fig


def iris_petal_map(cfg) -> Figure:
    """Softmax regression on petal length and width only, drawn as the K-class probability map."""
    data = lj.load_data(cfg)
    petals = lj.Dataset(data.X[:, 2:], data.y, data.feature_names[2:])
    fitted = lj.fit(replace_key(replace_key(cfg, "data.test_fraction", 0.0), "predict.points", ()), petals)
    return class_map_figure(
        probability_grid(lambda pts: lj.predict_proba(fitted, pts), petals.X, fitted.cfg.plot),
        petals.X,
        petals.y,
        "Iris petals, softmax regression",
        ("petal length (cm)", "petal width (cm)"),
        IRIS_SPECIES,
    )


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    fits = [lj.fit(lj.load_config(path)) for path in CONFIGS]
    for fitted in fits:
        y, prob = held_out(fitted)
        print(f"{fitted.cfg.name}: held-out accuracy {np.mean(prob.argmax(1) == y):.4f} ({y.size} samples)")
    args.out.mkdir(parents=True, exist_ok=True)
    save_figure(confusion_panels(fits), args.out / "multiclass_confusion.png")
    save_figure(misclassified_digits(fits[1]), args.out / "digits_misclassified_softmax.png")
    save_figure(misclassified_digits(fits[2]), args.out / "digits_misclassified_mlp.png")
    save_figure(iris_petal_map(fits[0].cfg), args.out / "iris_petal_map.png")
    print(f"wrote {args.out}/multiclass_confusion.png, digits_misclassified_*.png, iris_petal_map.png")


if __name__ == "__main__":
    run_main(main)
