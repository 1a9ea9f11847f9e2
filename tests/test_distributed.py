"""Data-parallel and multi-process training, and peak memory: each in a fresh subprocess.

Device counts and the distributed runtime are fixed when JAX starts, and peak memory is a
property of a whole process, so none of this can run inside the test process itself.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import ROOT

import logreg_jax as lj

pytestmark = pytest.mark.slow  # subprocesses: several processes, memory measured from outside

SYNTHETIC = "{m = 3000, d = 4, seed = 5}"
OVERRIDES = [
    f"data.synthetic={SYNTHETIC}",
    "predict.points=[]",
    "optimizer.name=sgd",
    "train.epochs=10",
    "dtype=float64",
]


def child_env(**extra):
    env = dict(os.environ, JAX_PLATFORMS="cpu", LOGREG_JAX_CACHE="off", PYTHONPATH=str(ROOT))
    env.pop("XLA_FLAGS", None)
    env.update(extra)
    return env


def run_child(code: str, timeout: float = 60, **env) -> dict:
    """Runs ``code`` in a fresh interpreter; it prints one JSON line last."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_four_devices_shard_the_rows_and_reach_the_single_device_theta():
    result = run_child(
        f"""
        import json, jax, numpy as np, logreg_jax as lj
        overrides = {OVERRIDES!r}
        one = lj.fit_config(lj.load_config("configs/exam_scores.toml", overrides))
        four = lj.fit_config(lj.load_config("configs/exam_scores.toml", overrides + ["distributed.data_parallel=true"]))
        print(json.dumps({{"devices": len(jax.devices()),
                          "shards": len(four.inputs.blocks.X.sharding.device_set),
                          "one": np.asarray(one.params).tolist(), "four": np.asarray(four.params).tolist(),
                          "accuracy": [lj.summarize(f)["train_accuracy"] for f in (one, four)]}}))
        """,
        XLA_FLAGS="--xla_force_host_platform_device_count=4",
    )
    assert result["devices"] == 4 and result["shards"] == 4
    np.testing.assert_allclose(result["four"], result["one"], atol=1e-6, rtol=0)
    assert result["accuracy"][0] == result["accuracy"][1] > 0.6


def test_train_takes_data_and_parameters_on_a_users_explicit_mesh():
    """jax.make_mesh's axes are Explicit: a jit of parameters placed on them needs the user's
    mesh context, so the optimizer's state is built op by op there. Each chunk length is still
    compiled once, and the fit equals the one of data and parameters on one device."""
    result = run_child(
        """
        import json, jax, jax.numpy as jnp, numpy as np, logreg_jax as lj
        from jax.sharding import NamedSharding, PartitionSpec as P
        from logreg_jax.loss import bound_objective
        from logreg_jax.models.logistic import MODEL
        from logreg_jax.optimizers import optimizer_from
        X = lj.add_bias(np.random.default_rng(0).normal(size=(40, 4)))
        y = (X[:, 1] > 0).astype(np.float32)
        mesh = jax.make_mesh((4,), ("data",))
        rows, whole = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())
        out = {}
        for name in ("adam", "lbfgs"):
            optimizer = optimizer_from(name, learning_rate=0.1)
            one = lj.train(bound_objective(MODEL, X, y), jnp.zeros(5), optimizer=optimizer, epochs=6, chunk=2)
            data = bound_objective(MODEL, jax.device_put(X, rows), jax.device_put(y, rows))
            four = lj.train(data, jax.device_put(jnp.zeros(5), whole), optimizer=optimizer, epochs=6, chunk=2)
            out[name] = [np.asarray(one[0]).tolist(), np.asarray(four[0]).tolist()]
        print(json.dumps(out))
        """,
        XLA_FLAGS="--xla_force_host_platform_device_count=4",
    )
    for one, four in result.values():
        np.testing.assert_allclose(four, one, rtol=1e-5, atol=1e-6)


def test_scripts_make_one_cpu_device_per_core_unless_told_otherwise():
    """use_cpu_cores (run_main calls it): one CPU device per core the process may use; the count a
    user set (JAX_NUM_CPU_DEVICES) stands, and once the backend started it changes nothing."""
    code = """
        import json, os, jax
        from logreg_jax.cli.args import use_cpu_cores
        if os.environ.get("START_FIRST"):
            jax.devices()
        use_cpu_cores()
        print(json.dumps({"devices": len(jax.devices()), "cores": len(os.sched_getaffinity(0))}))
    """
    cores = len(os.sched_getaffinity(0))
    assert run_child(code) == {"devices": cores, "cores": cores}
    assert run_child(code, JAX_NUM_CPU_DEVICES="3")["devices"] == 3
    assert run_child(code, START_FIRST="1")["devices"] == 1


def test_bootstrap_refits_shared_among_devices_are_the_one_device_refits():
    """report.bootstrap.refit shares the members among the local devices: three here, with 301
    members (the last share padded). Every refit and flag is the one-device program's."""
    result = run_child(
        """
        import json, jax, numpy as np, logreg_jax as lj
        from logreg_jax.report import bootstrap as rb
        data = lj.load_dataset("data/exam_scores.txt")
        X, y = lj.FeatureMap.fit(data.X)(data.X), data.y
        devices = tuple(jax.devices())
        with jax.enable_x64(True):
            theta = np.asarray(rb.refit(np.zeros(3), X, y, np.ones((1, 100)))[0][0])  # the full-data fit
            counts = rb.resample_counts(jax.random.key(0), 301, 100)
            shared = rb.refit(theta, X, y, counts)
            one = rb._refit_on(theta, X, y, counts, 0.0, steps=rb.NEWTON_STEPS, devices=devices[:1])
            program = rb._refit_on.trace(theta, X, y, counts, 0.0, steps=rb.NEWTON_STEPS, devices=devices)
        print(json.dumps({"devices": len(devices), "sharded": "shard_map" in str(program.jaxpr),
                          "shared": np.asarray(shared[0]).tolist(), "one": np.asarray(one[0]).tolist(),
                          "ok_shared": np.asarray(shared[1]).tolist(), "ok_one": np.asarray(one[1]).tolist()}))
        """,
        JAX_NUM_CPU_DEVICES="3",
    )
    assert result["devices"] == 3 and result["sharded"]
    shared, one, ok = np.array(result["shared"]), np.array(result["one"]), np.array(result["ok_one"])
    assert shared.shape == (301, 3) and result["ok_shared"] == result["ok_one"] and ok.sum() >= 295
    np.testing.assert_allclose(shared[ok], one[ok], rtol=1e-12, atol=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_each_reading_half_reach_the_single_process_theta(tmp_path):
    port = free_port()
    procs = []
    try:
        for i in range(2):
            args = [
                sys.executable,
                "experiments/train.py",
                "configs/exam_scores.toml",
                "--out",
                str(tmp_path / f"p{i}"),
            ]
            for o in OVERRIDES + [
                "distributed.data_parallel=true",
                "distributed.num_processes=2",
                f"distributed.process_id={i}",
                f'distributed.coordinator="127.0.0.1:{port}"',
            ]:
                args += ["--set", o]
            # The scripts' compilation cache goes to a private folder (never a shared one).
            procs.append(
                subprocess.Popen(
                    args,
                    cwd=ROOT,
                    env=child_env(LOGREG_JAX_CACHE=str(tmp_path / f"cache{i}")),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        outputs = [p.communicate(timeout=90)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, out in zip(procs, outputs):
        assert p.returncode == 0, out[-3000:]
    single = lj.fit_config(lj.load_config("configs/exam_scores.toml", OVERRIDES))
    for i in range(2):
        theta = json.loads((tmp_path / f"p{i}" / "metrics.json").read_text())["theta"]
        np.testing.assert_allclose(theta, single.params, atol=1e-6, rtol=0)
    # JAX writes the persistent compilation cache from process 0 only.
    assert any((tmp_path / "cache0").iterdir())


def test_peak_memory_stays_within_twice_the_file(tmp_path):
    """Peak RSS over a warm baseline (JAX imported, every program kind compiled, the minibatch ones
    at this file's shapes):
    minibatches over the memory-mapped file stay far below its size; full batch writes the
    inputs once, within 2× the file."""
    path = tmp_path / "big.npy"
    table = np.random.default_rng(0).standard_normal((1_000_000, 33), dtype=np.float32)
    table[:, -1] = table[:, 0] > 0
    np.save(path, table)
    size = path.stat().st_size
    del table
    result = run_child(f"""
        import json, logreg_jax as lj
        def peak():
            return int([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]) * 1024
        def run(*keys):
            cfg = lj.load_config("configs/exam_scores.toml", ["predict.points=[]", "train.epochs=2", *keys])
            lj.summarize(lj.fit_config(cfg))
        run(); run("train.batch_size=8192")
        base = peak()
        # The minibatch programs compiled at this file's shapes too, and the high-water mark reset
        # to the current RSS: the minibatch figure is then the memory its data take, not XLA's
        # compiler memory (which builds retain differently, by more than this margin).
        run("data.path={path}", "train.batch_size=8192", "train.epochs=1")
        open("/proc/self/clear_refs", "w").write("5")
        warm = peak()
        run("data.path={path}", "train.batch_size=8192", "train.epochs=1")
        mini = peak() - warm
        run("data.path={path}")
        print(json.dumps({{"mini": mini, "full": peak() - base}}))
        """)
    assert result["mini"] < 0.5 * size, result
    assert result["full"] < 2 * size, result
