"""Compiled programs kept across processes, so that a later run starts them without tracing them.

JAX's persistent compilation cache (``jax_compilation_cache_dir``, which the scripts turn on) saves
the *compiling* of a program, but every process still traces and lowers the program to find its
entry there, and for a small program that is most of its first call (the bootstrap's refits, see
benchmarks/RESULTS.md). :func:`cached_call` keeps the compiled executable itself
(``jax.experimental.serialize_executable``) in a subfolder of that cache, under a key computed
without tracing: the source of this package, the versions of JAX, jaxlib and NumPy, ``XLA_FLAGS``,
JAX's configuration as jit keys its own traces, the devices and the processor, the arguments' types
and shardings, and the static arguments. A later process with the same key loads the executable
and runs it at once.

That key covers everything a trace can depend on only when the traced code is this package's and
every static argument prints the same in every process. So a call whose static arguments print an
object's address, whose arguments are tracers (inside another transformation), or that runs without
a cache folder is the plain ``jax.jit`` call. As with JAX's own cache, the folder must be one you
trust: loading a program runs its machine code.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import platform
from collections.abc import Callable
from pathlib import Path

import jax
import jaxlib
import numpy as np
from jax.experimental.serialize_executable import deserialize_and_load, serialize

try:  # the configuration that jit keys its own traces on (a tuple of settings, thread-local ones included)
    from jax._src.config import trace_context as _trace_context
except ImportError:  # a JAX without it: no key can cover the configuration, so nothing is cached
    _trace_context = None

__all__ = ["cached_call"]

SUBFOLDER = "logreg_jax-programs"  # inside the JAX cache folder, whose own entries end in "-cache"
_loaded: dict[str, Callable] = {}  # key -> the compiled program, for the calls after this process's first


def cached_call(fn, *args, **static):
    """``fn(*args, **static)``, the compiled program kept on disk for the next process (module docstring).

    Args:
        fn: a ``jax.jit`` function of this package; ``static`` are its static arguments, by name.
        *args: its other arguments, in the order ``fn`` takes them.

    Returns:
        What ``fn(*args, **static)`` returns, computed by the same compiled program.
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
            compiled = fn.lower(*args, **static).compile()
            _store(path, compiled)
        _loaded[key] = compiled
    return compiled(*args)


def _cache_folder() -> str | None:
    """JAX's persistent cache folder, where it is on (the scripts turn it on), else None."""
    return jax.config.jax_compilation_cache_dir if jax.config.jax_enable_compilation_cache else None


def _key(fn, args, static) -> str | None:
    """The program's key (a SHA-256 hex digest), or None when no key can cover the trace."""
    leaves, tree = jax.tree_util.tree_flatten(args)
    if _trace_context is None or any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
        return None
    context = [repr(setting) for setting in _trace_context()]
    parts = [
        f"{fn.__module__}.{fn.__qualname__}",
        *_environment(),
        # The axis environment prints an address; outside every transformation (no tracers) it is empty.
        *(setting for setting in context if " at 0x" not in setting),
        str(tree),
        *(f"{jax.typeof(leaf)} {getattr(leaf, 'sharding', 'host')}" for leaf in leaves),
        *(f"{name}={value!r}" for name, value in sorted(static.items())),
    ]
    text = "\n".join(parts)
    if " at 0x" in text:  # a static argument (or a leaf's sharding) printed as an address
        return None
    return hashlib.sha256(text.encode()).hexdigest()


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
        f"jax {jax.__version__} jaxlib {jaxlib.__version__} numpy {np.__version__}",
        os.environ.get("XLA_FLAGS", ""),
        f"{platform.machine()} {platform.processor()} {cpu}",
        f"{devices[0].client.platform_version} {devices} of {jax.process_count()} processes",
    )


def _load(path: Path, args):
    """The compiled program stored at ``path``, or None when there is none that loads."""
    try:
        serialized, out_tree = pickle.loads(path.read_bytes())
        return deserialize_and_load(serialized, jax.tree_util.tree_structure((args, {})), out_tree)
    except FileNotFoundError:
        return None
    except Exception:  # a truncated file, or one another JAX wrote: compile again and replace it
        return None


def _store(path: Path, compiled) -> None:
    """Writes ``compiled`` to ``path`` whole or not at all (a reader never sees half a file)."""
    serialized, _, out_tree = serialize(compiled)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # this process's own, then renamed
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(pickle.dumps((serialized, out_tree)))
        os.replace(partial, path)
    except OSError:  # a read-only or full folder: this run is unaffected, the next one compiles again
        with contextlib.suppress(OSError):
            partial.unlink()
