"""The public API: small, one name per concept, and the simple path free of the large-data machinery."""

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import jax
import pytest
from conftest import ROOT

import logreg_jax as lj
from logreg_jax.models import registry

# The functions every model module implements (the Model interface), allowed to share their names.
MODEL_INTERFACE = {"init", "logits", "weights", "describe", "logits_fm"}
MODEL_MODULES = {"logreg_jax.models.logistic", "logreg_jax.models.mlp", "logreg_jax.models.softmax"}


def test_the_top_level_api_is_small_and_resolves():
    assert len(lj.__all__) <= 30 and len(set(lj.__all__)) == len(lj.__all__)
    assert all(hasattr(lj, name) for name in lj.__all__)
    assert lj.studies.__name__ == "logreg_jax.studies" and lj.scale.__name__ == "logreg_jax.scale"
    # The names load lazily; the submodules named like functions never take their names.
    import logreg_jax.fit
    import logreg_jax.train  # noqa: F401  (binds nothing new: the point)

    assert lj.train is sys.modules["logreg_jax.train"].train and lj.fit is sys.modules["logreg_jax.fit"].fit


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


def _package_modules() -> dict[str, Path]:
    files = sorted((ROOT / "logreg_jax").rglob("*.py"))
    names = [".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for f in files]
    return dict(zip(names, files))


def _imports(name: str, path: Path, modules) -> set[str]:
    """Every package module ``name`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
            targets = [t if t in modules else node.module for t in names]  # a submodule, else the module
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args:
            arg = node.args[0]
            targets = [arg.value] if isinstance(arg, ast.Constant) else []  # a user's module:attr
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def test_the_package_has_no_import_cycle():
    """Function-level imports count too: dependencies point one way."""
    modules = _package_modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    graph["logreg_jax"] = set()  # the package face imports everything and is imported by nothing inside
    done, cycles = set(), []

    def visit(node, stack):
        if node in stack:
            cycles.append(stack[stack.index(node) :] + [node])
            return
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, stack + [node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    assert cycles == []


def test_the_top_level_is_the_spine_and_the_core_never_imports_scale_or_studies():
    modules = _package_modules()
    top = [name for name, path in modules.items() if name.count(".") == 1 and path.name != "__init__.py"]
    assert len(top) <= 12, top
    core = [name for name in top if name not in ("logreg_jax.route",)]
    for name in core:
        assert not {
            m
            for m in _imports(name, modules[name], modules)
            if m.startswith(("logreg_jax.scale", "logreg_jax.studies"))
        }
    for wing in ("models", "data", "report", "runs", "cli", "studies", "scale"):
        doc = importlib.import_module(f"logreg_jax.{wing}").__doc__
        assert doc and "import" in doc, wing  # each wing says what lives there and what it may import


def test_no_module_outside_models_compares_a_model_name_with_a_string():
    modules = _package_modules()
    offenders = []
    for name, path in modules.items():
        if name.startswith("logreg_jax.models"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):  # `x == "mlp"`, `name in ("logistic", …)`, whatever x is
                sides = [node.left, *node.comparators]
                literals = {c.value for side in sides for c in ast.walk(side) if isinstance(c, ast.Constant)}
                if literals & set(registry.BUILT_IN):
                    offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


def test_the_gradient_is_a_few_frames_below_fit(monkeypatch):
    """From lj.fit to jax.value_and_grad of the objective: at most five library frames."""
    train_module = sys.modules["logreg_jax.train"]  # (lj.train is the function)
    stacks, real = [], jax.value_and_grad

    def spy(fn, *args, **kwargs):
        stacks.append([f for f in inspect.stack() if "/logreg_jax/" in f.filename])
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(train_module.jax, "value_and_grad", spy)
    train_module.run_chunk.clear_cache()  # so that this fit traces (and calls the spy) again
    cfg = lj.load_config("configs/exam_scores.toml", ["train.epochs=3", "train.log_every=3", "loss.l2=0.125"])
    lj.fit(cfg)
    below_fit = [s for s in stacks if any(f.function == "fit" for f in s)]
    assert below_fit, "training traced no jax.value_and_grad"
    for stack in below_fit:
        frames = [f.function for f in stack]
        assert frames.index("fit") <= 5, frames  # inspect.stack is innermost first: step … fit


def test_fit_reads_on_one_screen():
    source = inspect.getsource(lj.fit)
    body = source.split('"""')[2]  # after the docstring
    assert len([line for line in body.splitlines() if line.strip()]) <= 15


def test_no_two_functions_do_the_same_job():
    """Beyond names: no two package functions have the same body (names and strings aside)."""

    class Anonymize(ast.NodeTransformer):
        def visit_Name(self, node):
            return ast.copy_location(ast.Name(id="_", ctx=node.ctx), node)

        def visit_arg(self, node):
            return ast.copy_location(ast.arg(arg="_"), node)

        def visit_Constant(self, node):
            return ast.copy_location(ast.Constant(value=type(node.value).__name__), node)

    seen = defaultdict(list)
    for name, path in _package_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and len(node.body) >= 3:
                body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
                shape = ast.dump(Anonymize().visit(ast.Module(body=body, type_ignores=[])))
                seen[shape].append(f"{name}.{node.name}")
    assert [places for places in seen.values() if len(places) > 1] == []


def test_the_compilation_cache_lives_in_the_checkout_not_the_package():
    from logreg_jax.cli import args

    assert args.DEFAULT_CACHE == ROOT / ".jax_cache"  # a path from __file__ survives a module moving deeper
