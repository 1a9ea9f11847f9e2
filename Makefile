# make demo   set up .venv (first time) and run the exam-scores experiment into runs/exam_scores/
# make test   set up .venv (first time), lint with ruff and run the whole test suite (pytest -m "not slow" for the quick part)
# make bench  install the bench extra (scikit-learn, SciPy, statsmodels) and run the benchmarks
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench figures figures-gradients clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "logreg_jax needs Python >= 3.11, found " + sys.version.split()[0] + " (set PYTHON=python3.11 or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python experiments/train.py configs/exam_scores.toml

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Speed measurements (never part of the tests); prints ratios measured side by side.
# benchmarks/run.py (performance at scale, a few minutes) writes benchmarks/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/layout.py
	$(BIN)/python benchmarks/bootstrap.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/influence.py
	$(BIN)/python benchmarks/tune.py
	$(BIN)/python benchmarks/path.py
	$(BIN)/python benchmarks/first_result.py

# Regenerates the figures committed under docs/ and shown in the README.
figures: $(STAMP)
	$(BIN)/python experiments/train.py configs/exam_scores.toml
	cp runs/exam_scores/decision_boundary.png docs/exam_scores_decision_boundary.png
	cp runs/exam_scores/roc.png docs/exam_scores_roc.png
	cp runs/exam_scores/calibration.png docs/exam_scores_calibration.png
	$(BIN)/python experiments/regularization.py configs/microchips_regularization.toml
	cp runs/microchips_regularization/boundaries.png docs/microchips_regularization_boundaries.png
	cp runs/microchips_regularization/accuracy_vs_lambda.png docs/microchips_accuracy_vs_lambda.png
	$(BIN)/python experiments/train.py configs/microchips.toml
	cp runs/microchips/decision_boundary.png docs/microchips_decision_boundary.png
	$(BIN)/python experiments/compare_models.py configs/compare_models.toml
	cp runs/compare_models/models.png docs/compare_models.png
	$(BIN)/python experiments/train.py configs/mlp_xor.toml
	cp runs/mlp_xor/decision_boundary.png docs/mlp_xor_decision_boundary.png
	$(BIN)/python experiments/compare_optimizers.py configs/compare_optimizers.toml
	cp runs/compare_optimizers/convergence.png docs/compare_optimizers_convergence.png
	$(BIN)/python experiments/sweep.py configs/sweep_lr.toml
	cp runs/sweep_lr/sweep.png docs/sweep_lr.png
	$(BIN)/python experiments/train.py configs/exam_scores_inference.toml
	cp runs/exam_scores_inference/coefficients.png docs/exam_scores_coefficients.png
	$(BIN)/python experiments/multiclass_figures.py --out docs
	$(BIN)/python experiments/tune_l2.py configs/tune_l2.toml
	cp runs/tune_l2/path.png docs/tune_l2_path.png
	cp runs/tune_l2/unrolled.png docs/tune_l2_unrolled.png
	$(BIN)/python experiments/tune_l2.py configs/tune_l2_breast_cancer.toml
	cp runs/tune_l2_breast_cancer/path.png docs/tune_l2_breast_cancer_path.png
	cp runs/tune_l2_breast_cancer/strengths.png docs/tune_l2_breast_cancer_strengths.png
	for run in sgd:1 sgd:0.3 momentum:0.3 adam:0.1; do \
	  $(BIN)/python experiments/train.py configs/exam_scores.toml --out runs/compare/$${run%%:*}_lr$${run##*:} \
	    --set optimizer.name=$${run%%:*} --set optimizer.learning_rate=$${run##*:} --set inference.enabled=false || exit 1; \
	done
	$(BIN)/python experiments/compare_runs.py runs/compare/* --out runs/comparison
	cp runs/comparison/curves.png docs/compare_runs_curves.png
	$(BIN)/python experiments/influence.py configs/digits_influence.toml
	cp runs/digits_influence/scatter.png docs/influence_digits_scatter.png
	cp runs/digits_influence/point.png docs/influence_digits_point.png
	$(BIN)/python experiments/influence.py configs/breast_cancer_influence.toml
	cp runs/breast_cancer_influence/scatter.png docs/influence_breast_cancer_scatter.png
	$(BIN)/python experiments/path.py configs/breast_cancer_path.toml
	cp runs/breast_cancer_path/coefficients.png docs/path_breast_cancer_coefficients.png
	cp runs/breast_cancer_path/cv.png docs/path_breast_cancer_cv.png

# The gradient comparison at up to a million samples (about 8 minutes on 2 cores).
figures-gradients: $(STAMP)
	$(BIN)/python experiments/compare_gradients.py configs/compare_gradients.toml
	cp runs/compare_gradients/errors.png docs/compare_gradients_errors.png
	cp runs/compare_gradients/timing.png docs/compare_gradients_timing.png

clean:
	rm -rf runs .pytest_cache
