"""Compiled programs kept across processes, so that a later run starts them without tracing them.

JAX's persistent compilation cache (``jax_compilation_cache_dir``, which the scripts turn on) saves
the *compiling* of a program, but every process still traces and lowers the program to find its
entry there, and for a small program that is most of its first call (the bootstrap's refits, see
benchmarks/RESULTS.md). :func:`cached_call` keeps the compiled executable itself
(``jax.experimental.serialize_executable``) in a subfolder of that cache, under a key computed
without tracing: the source of this package, the versions of Python, JAX, jaxlib, NumPy and optax,
``XLA_FLAGS``, JAX's configuration as jit keys its traces and compiles, the devices and the
processor, the arguments' types and placements, and the static arguments. A later process with the
same key loads the executable and runs it at once.

That key covers everything a trace can depend on only when the traced code is this package's and
every static argument prints the same in every process. So a function from outside the package, a
static argument or setting that prints an object's address, arguments that are tracers (inside
another transformation), JAX's debugging modes (``jax_debug_nans``, ``jax_debug_infs``,
``jax_disable_jit``, under which the plain call behaves differently) and a run without a cache folder
all make the plain ``jax.jit`` call. Only a program XLA compiled in the call is stored: one that
JAX's persistent cache served (after an edit of the package, say) serializes without some of its
kernels on XLA:CPU. The source is hashed once per process: code edited and reloaded in a running
session (a notebook's autoreload) keeps the program compiled before the edit. As with JAX's own
cache, the folder must be one you trust: loading a program runs its machine code.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import platform
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import jax
import jaxlib
import numpy as np
from jax.experimental.serialize_executable import deserialize_and_load, serialize

try:  # the settings jit keys its own traces on, thread-local ones included, and their names
    from jax._src.config import trace_context as _trace_context
    from jax._src.config import trace_context_names as _trace_context_names
except ImportError:  # a JAX without them: no key can cover the configuration, so nothing is cached
    _trace_context = _trace_context_names = None

__all__ = ["cached_call", "debugging"]

SUBFOLDER = "logreg_jax-programs"  # inside the JAX cache folder, whose own entries end in "-cache"
# What jit adds to the trace context in its compile key: options of the compiler, not of the trace.
COMPILE_SETTINGS = (
    "jax_optimization_level",
    "jax_memory_fitting_level",
    "jax_exec_time_optimization_effort",
    "jax_memory_fitting_effort",
    "jax_compiler_enable_remat_pass",
)
_loaded: dict[str, Callable] = {}  # key -> the compiled program, for the calls after this process's first


def cached_call(fn, *args, **static):
    """``fn(*args, **static)``, the compiled program kept on disk for the next process (module docstring).

    Args:
        fn: a ``jax.jit`` function of this package.
        *args: its array arguments (every argument that is not static), by position.
        **static: its static arguments, by name.

    Returns:
        What ``fn(*args, **static)`` returns, computed by the same compiled program.

    Raises:
        TypeError: a static argument was passed by position, or an array argument by name (the
            compiled program would take other arguments than the stored one).
    """
    folder = _cache_folder()
    key = None if folder is None else _key(fn, args, static)
    if key is None:
        return fn(*args, **static)
    compiled = _loaded.get(key)
    if compiled is None:
        path = Path(folder) / SUBFOLDER / f"{key}.bin"
        compiled = _load(path, args)
        if compiled is None:
            compiled, fresh = _compile(fn, args, static)
            if compiled.in_tree != jax.tree_util.tree_structure((args, {})):
                raise TypeError(
                    f"cached_call({fn.__qualname__}): pass static arguments by name, the others by position"
                )
            if fresh:
                _store(path, compiled)
        _loaded[key] = compiled
    return compiled(*args)


def debugging() -> bool:
    """Whether one of JAX's debugging modes is on that needs the jitted function, not a compiled
    program: ``jax_disable_jit`` runs it op by op, ``jax_debug_nans`` and ``jax_debug_infs`` rerun
    it so as to name the operation that produced the value."""
    return any(getattr(jax.config, mode) for mode in ("jax_debug_nans", "jax_debug_infs", "jax_disable_jit"))


def _cache_folder() -> str | None:
    """JAX's persistent cache folder, where it is on (the scripts turn it on), else None."""
    return jax.config.jax_compilation_cache_dir if jax.config.jax_enable_compilation_cache else None


def _key(fn, args, static) -> str | None:
    """The program's key (a SHA-256 hex digest), or None when no key can cover the trace."""
    leaves, tree = jax.tree_util.tree_flatten(args)
    if (
        _trace_context is None
        or not fn.__module__.startswith("logreg_jax.")  # the source hash covers this package alone
        or debugging()
        or any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)
    ):
        return None
    # The axis environment prints an address; outside every transformation (no tracers) it is empty.
    context = [f"{n}={v!r}" for n, v in zip(_trace_context_names(), _trace_context()) if n != "axis_env_state"]
    parts = [
        f"{fn.__module__}.{fn.__qualname__}",
        *_environment(),
        f"optax {getattr(sys.modules.get('optax'), '__version__', 'not loaded')}",
        *context,
        *(f"{name}={getattr(jax.config, name, None)!r}" for name in COMPILE_SETTINGS),
        str(tree),
        *(f"{jax.typeof(leaf)} {_placement(leaf)}" for leaf in leaves),
        *(f"{name}={value!r}" for name, value in sorted(static.items())),
    ]
    text = "\n".join(parts)
    if " at 0x" in text:  # a static argument or a setting printed as an address: not the same next time
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def _placement(leaf) -> str:
    """Where an argument lives, as the compiled program checks it: host, or sharding, devices, commitment."""
    sharding = getattr(leaf, "sharding", None)
    if sharding is None:
        return "host"
    return f"{sharding} on {sorted(d.id for d in sharding.device_set)} committed={leaf.committed}"


@functools.cache
def _environment() -> tuple[str, ...]:
    """What the key shares among every program of this process: code, versions, flags, hardware."""
    package = Path(__file__).resolve().parent
    source = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        source.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    cpu = ""
    with contextlib.suppress(OSError):  # Linux: the instruction sets an executable may use
        cpu = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    devices = jax.local_devices()
    return (
        source.hexdigest(),
        f"python {sys.version} jax {jax.__version__} jaxlib {jaxlib.__version__} numpy {np.__version__}",
        os.environ.get("XLA_FLAGS", ""),
        f"{platform.machine()} {platform.processor()} {cpu}",
        f"{devices[0].client.platform_version} {[(d.id, d.device_kind) for d in devices]} of {jax.process_count()} processes",
    )


def _compile(fn, args, static):
    """(``fn`` compiled for ``args``, whether XLA compiled it just now). An executable that JAX's
    persistent cache loaded, or that this process had compiled before, is not stored: XLA:CPU
    serializes one that its cache loaded without some of its kernels, and another process that
    loads it fails ("Function ... not found") when it runs."""
    events = []

    def record(event, *_, **__):
        events.append(event)

    jax.monitoring.register_event_listener(record)
    jax.monitoring.register_event_duration_secs_listener(record)
    try:
        compiled = fn.lower(*args, **static).compile()
    finally:
        jax.monitoring.unregister_event_listener(record)
        jax.monitoring.unregister_event_duration_listener(record)
    compiled_now = "/jax/core/compile/backend_compile_duration" in events
    return compiled, compiled_now and "/jax/compilation_cache/cache_hits" not in events


def _load(path: Path, args):
    """The compiled program stored at ``path``, or None when there is none that loads whole."""
    try:
        blob = path.read_bytes()
        digest, payload = blob[:32], blob[32:]
        if hashlib.sha256(payload).digest() != digest:  # truncated or damaged: never run it
            return None
        serialized, out_tree = pickle.loads(payload)
        return deserialize_and_load(serialized, jax.tree_util.tree_structure((args, {})), out_tree)
    except Exception:  # none there, or one another JAX wrote: compile again and replace it
        return None


def _store(path: Path, compiled) -> None:
    """Writes ``compiled`` to ``path`` whole or not at all (a reader never sees half a file)."""
    partial = None
    try:
        serialized, _, out_tree = serialize(compiled)
        payload = pickle.dumps((serialized, out_tree))
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(descriptor, "wb") as file:
            file.write(hashlib.sha256(payload).digest() + payload)
        os.replace(partial, path)
    except Exception:  # a read-only or full folder, a program that does not serialize: this run is
        # unaffected (it has the program in memory), the next one compiles again
        if partial is not None:
            with contextlib.suppress(OSError):
                os.unlink(partial)
