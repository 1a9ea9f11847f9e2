"""The original tutorial's NumPy script, as the reference a run of configs/exam_scores.toml is timed against.

    python benchmarks/tutorial_numpy.py OUT.png

Standardizes both exam scores, runs 100 epochs of plain gradient descent (learning rate 1) on the
mean cross-entropy from θ ~ U[0, 1), prints the training accuracy, and saves one contour plot of
P(admitted) with the data on top. Nothing else: no run folder, no inference, no evaluation figures.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

data = np.loadtxt(Path(__file__).resolve().parents[1] / "data" / "exam_scores.txt", delimiter=",")
X_raw, y = data[:, :2], data[:, 2]
mean, std = X_raw.mean(axis=0), X_raw.std(axis=0)
X = np.column_stack([np.ones(len(y)), (X_raw - mean) / std])
theta = np.random.default_rng(0).uniform(size=3)
for _ in range(100):
    p = 1 / (1 + np.exp(-X @ theta))
    theta -= 1.0 * X.T @ (p - y) / len(y)
print(f"training accuracy {np.mean((X @ theta > 0) == (y == 1)):.3f}")

g1, g2 = np.meshgrid(np.arange(20, 110, 0.5), np.arange(20, 110, 0.5))
z = theta[0] + theta[1] * (g1 - mean[0]) / std[0] + theta[2] * (g2 - mean[1]) / std[1]
fig, ax = plt.subplots(figsize=(7, 5.6))
ax.contourf(g1, g2, 1 / (1 + np.exp(-z)), levels=20, cmap="RdYlBu")
ax.contour(g1, g2, z, levels=[0], colors="k")
ax.scatter(*X_raw[y == 1].T, marker="+", c="k", label="admitted")
ax.scatter(*X_raw[y == 0].T, marker="o", facecolors="none", edgecolors="k", label="not admitted")
ax.set_xlabel("exam 1 score")
ax.set_ylabel("exam 2 score")
ax.legend()
fig.savefig(sys.argv[1], dpi=120)
