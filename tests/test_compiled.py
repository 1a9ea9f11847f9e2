"""logreg_jax.compiled: a program kept on disk runs again without being traced and gives the numbers
of the traced program; whatever its key cannot cover is not kept."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from conftest import ROOT

import logreg_jax as lj
from logreg_jax import compiled
from logreg_jax.report import bootstrap as rb


class Counted:
    """A jit function whose lowerings (traces) are counted; it keys as the function it wraps."""

    def __init__(self, fn):
        self.fn, self.lowered = fn, 0
        self.__module__, self.__qualname__ = fn.__module__, fn.__qualname__

    def __call__(self, *args, **static):
        return self.fn(*args, **static)

    def lower(self, *args, **static):
        self.lowered += 1
        return self.fn.lower(*args, **static)


@contextlib.contextmanager
def setting(name, value):
    """One JAX setting changed for the block, then restored."""
    before = getattr(jax.config, name)
    jax.config.update(name, value)
    try:
        yield
    finally:
        jax.config.update(name, before)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A cache folder for this test alone (JAX's own setting is left as it is)."""
    monkeypatch.setattr(compiled, "_cache_folder", lambda: str(tmp_path))
    monkeypatch.setattr(compiled, "_loaded", {})
    # Earlier tests compiled these programs in this process: here every compile counts as XLA's own.
    compile_ = compiled._compile
    monkeypatch.setattr(compiled, "_compile", lambda *args: (compile_(*args)[0], True))
    return tmp_path


@pytest.fixture
def problem(x64):
    data = lj.load_dataset("data/exam_scores.txt")
    X, y = lj.FeatureMap.fit(data.X)(data.X), data.y
    full = rb._refit_on(
        np.zeros(3), X, y, np.ones((1, 100)), 0.0, steps=rb.NEWTON_STEPS, devices=tuple(jax.local_devices()[:1])
    )
    theta = np.asarray(full[0][0])  # the full-data fit
    counts = rb.resample_counts(jax.random.key(0), 40, 100)
    return theta, X, y, counts, 0.0


def refit_args(problem, steps=rb.NEWTON_STEPS):
    return problem, {"steps": steps, "devices": tuple(jax.local_devices())}


def stored(folder):
    return sorted((folder / compiled.SUBFOLDER).glob("*.bin"))


def test_a_stored_program_is_loaded_without_tracing_and_computes_the_same_numbers(folder, problem):
    args, static = refit_args(problem)
    traced = rb._refit_on(*args, **static)
    first = Counted(rb._refit_on)
    out = compiled.cached_call(first, *args, **static)
    assert first.lowered == 1 and len(stored(folder)) == 1
    compiled._loaded.clear()  # as a new process finds it: on disk only
    later = Counted(rb._refit_on)
    again = compiled.cached_call(later, *args, **static)
    assert later.lowered == 0
    for a, b, c in zip(traced, out, again):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        np.testing.assert_array_equal(np.asarray(a), np.asarray(c))


def test_the_key_changes_with_everything_the_trace_depends_on(problem, monkeypatch):
    args, static = refit_args(problem)
    key = compiled._key(rb._refit_on, args, static)
    theta, X, y, counts, l2 = args
    assert compiled._key(rb._refit_on, args, static) == key  # and it is stable
    changed = [
        compiled._key(rb._refit_on, (theta, X, y, counts[:20], l2), static),  # a shape
        compiled._key(rb._refit_on, (theta, X, y, counts.astype(np.int32), l2), static),  # a dtype
        compiled._key(rb._refit_on, args, {**static, "steps": 3}),  # a static argument
        compiled._key(rb.separated, args, static),  # another function
    ]
    with jax.enable_x64(False):  # the configuration (and through it the arguments' types)
        changed.append(compiled._key(rb._refit_on, args, static))
    with jax.default_matmul_precision("highest"):  # configuration alone, the types unchanged
        changed.append(compiled._key(rb._refit_on, args, static))
    with setting("jax_memory_fitting_level", "O0"):  # a compiler setting
        changed.append(compiled._key(rb._refit_on, args, static))
    for placed in (jax.device_put(X), jax.device_put(X, jax.local_devices()[0])):  # on a device; committed to it
        changed.append(compiled._key(rb._refit_on, (theta, placed, y, counts, l2), static))
    monkeypatch.setattr(compiled, "_environment", lambda: ("another source of the package",))
    changed.append(compiled._key(rb._refit_on, args, static))
    assert None not in changed and len({key, *changed}) == len(changed) + 1


def test_what_a_key_cannot_cover_is_the_plain_jit_call(folder, problem):
    args, static = refit_args(problem)
    assert compiled._key(rb._refit_on, args, {**static, "devices": object()}) is None  # prints an address
    theta, X, y, _, _ = args
    outside = jax.jit(lambda theta: theta + 1)  # not this package's code: its source is not in the key
    assert compiled._key(outside, (theta,), {}) is None
    for mode in ("jax_debug_nans", "jax_debug_infs", "jax_disable_jit"):
        with setting(mode, True):
            assert compiled._key(rb._refit_on, args, static) is None

    @jax.jit
    def inside(theta):  # the arguments are tracers of another transformation
        assert compiled._key(rb.separated, (theta, X, y), {}) is None
        return compiled.cached_call(rb.separated, theta, X, y)

    assert inside(theta) == rb.separated(theta, X, y)
    assert stored(folder) == []


def test_a_file_that_does_not_load_is_compiled_again_and_replaced(folder, problem):
    args, static = refit_args(problem)
    expected = rb._refit_on(*args, **static)
    compiled.cached_call(rb._refit_on, *args, **static)
    (path,) = stored(folder)
    path.write_bytes(path.read_bytes()[:-100])  # cut short, as by a full disk
    compiled._loaded.clear()
    np.testing.assert_array_equal(np.asarray(compiled.cached_call(rb._refit_on, *args, **static)[0]), expected[0])
    compiled._loaded.clear()
    counted = Counted(rb._refit_on)
    compiled.cached_call(counted, *args, **static)
    assert counted.lowered == 0  # the file was rewritten whole


def test_a_folder_it_cannot_write_leaves_the_call_unaffected(tmp_path, monkeypatch, problem):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setattr(compiled, "_cache_folder", lambda: str(tmp_path / "file"))
    monkeypatch.setattr(compiled, "_loaded", {})
    args, static = refit_args(problem)
    out = compiled.cached_call(rb._refit_on, *args, **static)
    np.testing.assert_array_equal(np.asarray(out[0]), np.asarray(rb._refit_on(*args, **static)[0]))


def test_a_program_this_process_had_compiled_is_not_counted_as_compiled_now(problem):
    args, static = refit_args(problem, steps=5)
    compiled._compile(rb._refit_on, args, static)
    assert compiled._compile(rb._refit_on, args, static)[1] is False  # jit's in-memory program


@pytest.mark.slow
def test_a_second_process_runs_the_bootstrap_without_tracing_it(tmp_path):
    """Fresh processes with one persistent cache, two CPU devices (the members shared): the second
    traces nothing for the refits and computes the first's numbers bit for bit. With the program
    file gone, a third process's compile is served by JAX's persistent cache: XLA:CPU would
    serialize that executable without some of its kernels, so it is not stored, and a fourth
    process traces again and computes the same numbers (a stored one failed as it ran)."""
    code = textwrap.dedent(
        """
        import json, sys, jax, numpy as np, logreg_jax as lj
        from logreg_jax.cli.args import enable_compilation_cache
        from logreg_jax.report import bootstrap as rb
        enable_compilation_cache(sys.argv[1])
        traced = []
        jax.monitoring.register_event_duration_secs_listener(
            lambda event, secs, fun_name="", **kw: traced.append(fun_name) if event.endswith("trace_duration") else None)
        data = lj.load_dataset("data/exam_scores.txt")
        X, y = lj.FeatureMap.fit(data.X)(data.X), data.y
        with jax.enable_x64(True):
            theta, ok = rb.bootstrap(jax.random.key(0), np.array([1.7, 3.9, 3.6]), X, y, 201)
        print(json.dumps({"theta": np.asarray(theta).tolist(), "ok": np.asarray(ok).tolist(),
                          "traced": "_refit_on" in traced, "devices": len(jax.devices())}))
        """
    )
    env = {**os.environ, "JAX_NUM_CPU_DEVICES": "2", "PYTHONPATH": str(ROOT)}
    runs, programs = [], tmp_path / "cache" / compiled.SUBFOLDER
    for k in range(4):
        if k == 2:
            shutil.rmtree(programs)
        done = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "cache")], capture_output=True, text=True, env=env, cwd=ROOT
        )
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if k == 2:
            assert not list(programs.glob("*.bin"))
    first, second, third, fourth = runs
    assert first["devices"] == 2 and first["traced"] and not second["traced"] and fourth["traced"]
    assert sum(first["ok"]) >= 190
    assert all(run["ok"] == first["ok"] and run["theta"] == first["theta"] for run in (second, third, fourth))


def test_each_static_argument_has_its_own_program(folder, problem):
    args, _ = refit_args(problem)
    for steps in (rb.NEWTON_STEPS, 3, rb.NEWTON_STEPS, 3):
        counted = Counted(rb._refit_on)
        static = refit_args(problem, steps)[1]
        out = compiled.cached_call(counted, *args, **static)
        np.testing.assert_array_equal(np.asarray(out[0]), np.asarray(rb._refit_on(*args, **static)[0]))
        compiled._loaded.clear()
    assert len(stored(folder)) == 2 and counted.lowered == 0


def test_a_static_argument_by_position_is_refused_before_anything_is_stored(folder, problem):
    args, static = refit_args(problem)
    with pytest.raises(TypeError, match="static arguments by name"):
        compiled.cached_call(rb._refit_on, *args, static["steps"], devices=static["devices"])
    assert stored(folder) == []


def test_a_program_that_does_not_serialize_still_runs(folder, problem, monkeypatch):
    def refuse(compiled_program):
        raise AttributeError("Can't pickle local object")

    monkeypatch.setattr(compiled, "serialize", refuse)
    args, static = refit_args(problem)
    out = compiled.cached_call(rb._refit_on, *args, **static)
    np.testing.assert_array_equal(np.asarray(out[0]), np.asarray(rb._refit_on(*args, **static)[0]))
    assert list(folder.rglob("*")) == []  # not even a partial file
