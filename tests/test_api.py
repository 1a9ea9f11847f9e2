"""The public API: small, one name per concept, and the simple path free of the large-data machinery."""

import importlib
import inspect
import pkgutil
import subprocess
import sys
from collections import defaultdict

import pytest
from conftest import ROOT

import logreg_jax as lj

# The functions every model module implements (the Model interface), allowed to share their names.
MODEL_INTERFACE = {"init", "logits", "weights", "describe", "logits_fm"}
MODEL_MODULES = {"logreg_jax.models.logistic", "logreg_jax.models.mlp", "logreg_jax.models.softmax"}


def test_the_top_level_api_is_small_and_resolves():
    assert len(lj.__all__) <= 30 and len(set(lj.__all__)) == len(lj.__all__)
    assert all(hasattr(lj, name) for name in lj.__all__)
    assert lj.studies.__name__ == "logreg_jax.studies" and lj.scale.__name__ == "logreg_jax.scale"


def test_one_name_per_concept():
    """No two modules define a public class, or a public function, of the same name (apart from
    the model interface that logistic, mlp and softmax each implement)."""
    modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(lj.__path__, "logreg_jax.")]
    where = defaultdict(set)
    for module in modules:
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                if not (name in MODEL_INTERFACE and module.__name__ in MODEL_MODULES):
                    where[name].add(module.__name__)
    assert {name: sorted(mods) for name, mods in where.items() if len(mods) > 1} == {}


@pytest.mark.slow
def test_training_in_memory_imports_neither_scale_nor_studies():
    code = (
        "import sys, logreg_jax as lj\n"
        "lj.summarize(lj.fit(lj.load_config('configs/exam_scores.toml')))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('logreg_jax.scale', 'logreg_jax.studies'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
