"""Data at scale: feature-major blocks, .npy and synthetic sources, streamed preparation, minibatches."""

import dataclasses
import functools
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import load_script, programs_lowered, rel_err

import logreg_jax as lj
from logreg_jax.config import config_from_dict
from logreg_jax.fit import InMemory
from logreg_jax.models.logistic import MODEL as LOGISTIC
from logreg_jax.scale import block_loss, pipeline, sources
from logreg_jax.scale import blocks as blk
from logreg_jax.scale.fit import FromSource


def exam_cfg(**sections):
    raw = {
        "dtype": "float64",
        "train": {"epochs": 30, "log_every": 10},
        "optimizer": {"name": "sgd", "learning_rate": 1.0},
    }
    for key, value in sections.items():
        raw.setdefault(key, {}).update(value) if isinstance(value, dict) else raw.update({key: value})
    return config_from_dict(raw)


def save_npy(tmp_path, data, dtype=np.float64):
    path = tmp_path / "data.npy"
    np.save(path, np.column_stack([data.X, data.y]).astype(dtype))
    return path


@pytest.mark.parametrize("block", [128, 256])
def test_blocked_objective_and_gradient_equal_the_row_formulas(x64, rng, block):
    """Padding is masked out; the feature-major and the fallback (transposed) logits agree."""
    m, n = 300, 4
    X = np.column_stack([np.ones(m), rng.standard_normal((m, n - 1))])
    y = (rng.random(m) < 0.4).astype(np.float64)
    theta = jnp.asarray(rng.standard_normal(n))
    blocks = blk.from_rows(X, y, block=block)
    assert blocks.X.shape == (-(-m // block), n, block)
    no_fm = LOGISTIC._replace(name="rows-only", logits_fm=None)
    for model in (LOGISTIC, no_fm):
        loss, grad = jax.value_and_grad(lambda t: block_loss.block_objective(model, t, blocks, 2.0))(theta)
        assert float(loss) == pytest.approx(float(lj.cross_entropy(theta, X, y, 2.0)), rel=1e-13)
        assert rel_err(grad, lj.analytic_gradient(theta, X, y, 2.0)) < 1e-13
    accuracy = np.mean((X @ np.asarray(theta) >= 0) == (y == 1))
    assert float(block_loss.block_accuracy(LOGISTIC, theta, blocks)) == pytest.approx(accuracy)
    np.testing.assert_array_equal(blk.to_rows(blocks)[0], X)


def test_npy_file_trains_exactly_like_the_text_file(tmp_path):
    text = lj.fit_config(exam_cfg())
    npy = lj.fit_config(exam_cfg(data={"path": str(save_npy(tmp_path, text.data))}))
    np.testing.assert_allclose(npy.params, text.params, rtol=1e-13)
    assert lj.summarize(npy)["train_accuracy"] == pytest.approx(0.89)


def test_streamed_statistics_equal_numpy_over_all_rows(monkeypatch, rng):
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 7)  # many uneven chunks
    X = rng.normal(3.0, 2.0, size=(100, 2))
    data = lj.Dataset(X, (rng.random(100) < 0.5).astype(float), ("a", "b"))
    streamed = pipeline.fit_feature_map(sources.ArraySource(data), degree=3, standardize=True, bias=True)
    whole = lj.FeatureMap.fit(X, degree=3)
    np.testing.assert_allclose(streamed.standardizer.mean, whole.standardizer.mean, rtol=1e-13)
    np.testing.assert_allclose(streamed.standardizer.std, whole.standardizer.std, rtol=1e-13)


def test_npy_errors_name_the_file_and_row(tmp_path):
    table = np.column_stack([np.ones(5), [0, 1, 0, 2, 1]]).astype(np.float32)
    np.save(tmp_path / "bad.npy", table)
    with pytest.raises(lj.DataError, match=r"bad.npy: row index 3: label 2 is not 0 or 1"):
        lj.fit_config(
            exam_cfg(
                data={"path": str(tmp_path / "bad.npy")}, features={"standardize": False}, predict={"points": [[1.0]]}
            )
        )
    np.save(tmp_path / "flat.npy", np.ones(4))
    with pytest.raises(lj.DataError, match="flat.npy: expected one C-ordered 2-D float array"):
        sources.NpySource(tmp_path / "flat.npy")


def test_synthetic_rows_are_seeded_and_any_range_comes_alone():
    key = jax.random.key(1)
    lo, hi = 65_000, 140_000  # spans three generation chunks
    with programs_lowered() as lowered:  # θ* is drawn inside the chunk's program, not by programs of its own
        X, y = sources.SyntheticSource(200_000, 3, key=key).read(lo, hi)
    assert lowered == ["synthetic_chunk"], lowered
    with jax.enable_x64(True):  # a float64 run draws the same rows
        X64, y64 = sources.SyntheticSource(200_000, 3, key=key).read(lo, hi)
    np.testing.assert_array_equal(X64, X)
    np.testing.assert_array_equal(y64, y)
    X2, y2 = sources.SyntheticSource(200_000, 3, key=jax.random.key(1)).read(lo - 10, hi)
    np.testing.assert_array_equal(X, X2[10:])
    np.testing.assert_array_equal(y, y2[10:])
    assert not np.array_equal(X, sources.SyntheticSource(200_000, 3, key=jax.random.key(2)).read(lo, hi)[0])
    assert 0.3 < y.mean() < 0.7 and abs(X.mean()) < 0.02 and abs(X.std() - 1) < 0.02


@pytest.mark.slow
def test_synthetic_config_runs_the_script_and_skips_the_boundary_figure(tmp_path, capsys):
    out = tmp_path / "run"
    load_script("train").main(
        [
            "configs/exam_scores.toml",
            "--out",
            str(out),
            "--set",
            "data.synthetic={m = 3000, d = 5, seed = 3}",
            "--set",
            "predict.points=[]",
            "--set",
            "train.epochs=20",
        ]
    )
    printed = capsys.readouterr().out
    assert "synthetic(m=3000, d=5, seed=3)" in printed
    assert "decision_boundary.png skipped: the data have 5 features" in printed
    assert (out / "loss.png").exists() and not (out / "decision_boundary.png").exists()


def test_minibatch_of_all_rows_is_full_batch_training(x64):
    full = lj.fit_config(exam_cfg())
    batched = lj.fit_config(exam_cfg(train={"batch_size": 100, "epochs": 30}))
    np.testing.assert_allclose(batched.params, full.params, rtol=1e-12)
    np.testing.assert_allclose(batched.history.loss, full.history.loss, rtol=1e-12)
    assert batched.history.final_loss == pytest.approx(full.history.final_loss, rel=1e-12)


def test_minibatches_are_reshuffled_from_the_seed(x64):
    cfg = exam_cfg(train={"batch_size": 16, "epochs": 5}, optimizer={"learning_rate": 0.3})
    a, b = lj.fit_config(cfg), lj.fit_config(cfg)
    np.testing.assert_array_equal(a.params, b.params)
    other = lj.fit_config(dataclasses.replace(cfg, seed=1))
    assert not np.allclose(a.params, other.params)
    assert a.history.final_loss < 0.35 and a.history.loss.shape == (5,)


def test_minibatches_read_only_their_rows_from_a_npy_file(tmp_path, monkeypatch):
    data = lj.load_dataset("data/exam_scores.txt")
    path = save_npy(tmp_path, data, np.float32)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 32)
    import logreg_jax.scale.minibatch as mb

    monkeypatch.setattr(mb, "CHUNK_ROWS", 32)
    reads = []
    original = sources.NpySource._copy

    def spy(self, rows):
        table = original(self, rows)
        reads.append(len(table))
        return table

    monkeypatch.setattr(sources.NpySource, "_copy", spy)
    fitted = lj.fit_config(exam_cfg(data={"path": str(path)}, dtype="float32", train={"batch_size": 10, "epochs": 3}))
    assert max(reads) <= 32 and sum(reads) >= 3 * 100  # every epoch read, never the whole file
    assert isinstance(fitted.inputs, FromSource) and lj.summarize(fitted)["n_samples"] == 100


def test_bad_scale_keys_are_config_errors():
    for key, value in [
        ("train.batch_size", "0"),
        ("data.synthetic", "{m = -1}"),
        ("distributed.process_id", "2"),
        ("distributed.num_processes", "2"),
    ]:
        with pytest.raises(lj.ConfigError, match=key.split(".")[-1]):
            lj.load_config("configs/exam_scores.toml", [f"{key}={value}"])


def test_a_batch_loss_estimates_the_whole_objective_penalty_included(x64, rng):
    """Equal batches' losses average to the full objective: the L2 term is the whole data's l2/(2m),
    not l2/(2·batch) (which would be m/batch times too strong)."""
    import logreg_jax.scale.minibatch as mb

    X, y = jnp.asarray(rng.normal(size=(120, 4))), jnp.asarray((rng.random(120) < 0.5).astype(float))
    theta, l2, still = jnp.asarray(rng.normal(size=4)), 3.0, optax.sgd(0.0)
    m = jnp.asarray(120.0)
    losses = [
        mb._step(theta, still.init(theta), X[b : b + 30], y[b : b + 30], 30, l2, m, model=LOGISTIC, optimizer=still)[2]
        for b in range(0, 120, 30)
    ]
    assert float(np.mean(losses)) == pytest.approx(float(lj.objective(LOGISTIC, theta, X, y, l2)), rel=1e-13)


def test_large_inputs_go_feature_major_unless_the_model_needs_rows(monkeypatch):
    """Above FEATURE_MAJOR_BYTES a binary model trains on blocks; softmax, K > 2 classes or a
    held-out set keep the rows in memory (the feature-major path is binary, on every row)."""
    monkeypatch.setattr(sys.modules["logreg_jax.route"], "FEATURE_MAJOR_BYTES", 1)
    few = {"epochs": 2, "log_every": 2}
    assert isinstance(lj.fit_config(exam_cfg(train=few)).inputs.blocks, blk.Blocks)
    iris = config_from_dict(
        {
            "data": {"path": "data/iris.csv"},
            "model": {"name": "mlp", "hidden": [4]},
            "train": few,
            "predict": {"points": []},
        }
    )
    assert isinstance(lj.fit_config(iris).inputs, InMemory)
    assert isinstance(lj.fit_config(exam_cfg(train=few, data={"test_fraction": 0.2})).inputs, InMemory)


def test_the_streamed_evaluation_is_two_programs_not_a_dozen_ops(x64, rng):
    """The loss, gradient norm and accuracy over all rows (a minibatch run's start and end) lower one
    program per chunk shape and one for the penalty and norm: op by op, each of those dozen
    operations was a program to compile in a new process. The numbers are the full-batch ones."""
    from logreg_jax.scale.minibatch import evaluate

    data = lj.Dataset(rng.normal(size=(300, 3)), (rng.random(300) < 0.5).astype(float), ("a", "b", "c"))
    source = sources.ArraySource(data)
    fmap = pipeline.fit_feature_map(source, degree=1, standardize=True, bias=True)
    theta = jax.device_put(rng.normal(size=4))
    with programs_lowered() as lowered:
        loss, norm, accuracy = evaluate(LOGISTIC, theta, source, fmap, np.float64, l2=2.0)
    assert sorted(lowered) == ["penalized", "sums"], lowered
    X = fmap(data.X)
    objective = functools.partial(lj.objective, LOGISTIC, X=X, y=data.y, l2=2.0)
    assert loss == pytest.approx(float(objective(theta)), rel=1e-12)
    assert norm == pytest.approx(float(jnp.linalg.norm(jax.grad(objective)(theta))), rel=1e-12)


@pytest.mark.parametrize(
    "name, classes, optimizer", [("logistic", 2, "lbfgs"), ("softmax", 3, "sgd"), ("mlp", 3, "momentum")]
)
def test_a_padded_batch_steps_exactly_like_its_real_rows(x64, rng, name, classes, optimizer):
    """The last, shorter batch is zero-padded to the batch size so that one program serves every
    batch: the padding rows change neither the loss, nor the gradient, nor the step (a line search's
    included), for binary and K-class models alike."""
    import logreg_jax.scale.minibatch as mb
    from logreg_jax.config import ModelConfig, OptimizerConfig
    from logreg_jax.fit import initial_params
    from logreg_jax.models.registry import get_model
    from logreg_jax.optimizers import init_state

    model_cfg = ModelConfig(name=name, hidden=(5,))
    model, real, size = get_model(model_cfg, classes), 11, 32
    X = np.column_stack([np.ones(real), rng.normal(size=(real, 3))])
    y = rng.integers(0, classes, real).astype(np.float64)
    Xp, yp = np.zeros((size, 4)), np.zeros(size)
    Xp[:real], yp[:real] = X, y
    params = initial_params(model, 0, 4, model_cfg)
    opt = lj.make_optimizer(OptimizerConfig(name=optimizer, learning_rate=0.5))
    l2, m = jnp.asarray(0.7), jnp.asarray(50.0)
    alone, padded = (
        mb._step(params, init_state(opt, params), Xb, yb, real, l2, m, model=model, optimizer=opt)
        for Xb, yb in [(X, y), (Xp, yp)]
    )
    for a, b in zip(jax.tree_util.tree_leaves(alone), jax.tree_util.tree_leaves(padded), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-16)
    squares = sum(float(np.sum(np.square(w))) for w in jax.tree_util.tree_leaves(model.weights(params)))
    expected = float(lj.objective(model, params, X, y)) + 0.7 / (2 * 50.0) * squares
    assert float(padded[2]) == pytest.approx(expected, rel=1e-13)


def test_streamed_passes_compile_one_program_whatever_the_last_chunk(x64, rng, monkeypatch):
    """m = 300 rows in chunks and batches of 128 leave a last one of 44: it is padded, so writing the
    blocks, a minibatch epoch and the evaluation each lower one program, and the numbers are the
    full-batch ones."""
    import logreg_jax.scale.minibatch as mb

    for module in (pipeline, mb):
        monkeypatch.setattr(module, "CHUNK_ROWS", 128)
    data = lj.Dataset(rng.normal(size=(300, 3)), (rng.random(300) < 0.5).astype(float), ("a", "b", "c"))
    source = sources.ArraySource(data)
    fmap = pipeline.fit_feature_map(source, degree=1, standardize=True, bias=True)
    X = fmap(data.X)
    with programs_lowered() as lowered:
        blocks = pipeline.build_blocks(source, fmap, np.float64)
    assert lowered.count("write") == 1, lowered
    np.testing.assert_array_equal(blk.to_rows(blocks)[0], X)
    np.testing.assert_array_equal(blk.to_rows(blocks)[1], data.y)
    theta = jax.device_put(rng.normal(size=4))
    sgd = optax.sgd(0.1)
    with programs_lowered() as lowered:
        params, history = mb.train_minibatch(
            LOGISTIC, theta, source, fmap, np.float64, batch_size=128, key=jax.random.key(0), optimizer=sgd, epochs=2
        )
    assert lowered.count("step") == 1 and lowered.count("sums") == 1, lowered
    objective = functools.partial(lj.objective, LOGISTIC, X=X, y=data.y)
    assert history.final_loss == pytest.approx(float(objective(params)), rel=1e-12)
    assert history.final_grad_norm == pytest.approx(float(jnp.linalg.norm(jax.grad(objective)(params))), rel=1e-12)
