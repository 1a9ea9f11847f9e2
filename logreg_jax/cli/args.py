"""What every experiment script shares: arguments, config loading, and one-line errors."""

from __future__ import annotations

import argparse
import functools
import gc
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import jax

from logreg_jax import errors
from logreg_jax.config import Config, load_config
from logreg_jax.errors import ConfigError, LogregError
from logreg_jax.runs.folder import check_out

CACHE_ENV = "LOGREG_JAX_CACHE"  # folder of JAX's persistent compilation cache; "off" disables it
DEFAULT_CACHE = Path(__file__).resolve().parents[2] / ".jax_cache"


class ArgumentParser(argparse.ArgumentParser):
    """argparse with its errors as one line (a :class:`ConfigError` that :func:`run_main` prints),
    the usage folded into it, instead of a usage block and a second line."""

    def error(self, message: str):
        usage = " ".join(self.format_usage().split()).removeprefix("usage: ")
        raise ConfigError(f"{self.prog}: {message} (usage: {usage})")


def parse_args(argv: Sequence[str] | None, description: str, cls: type = Config) -> tuple[Config, Path]:
    """Parses ``CONFIG [--set key=value ...] [--out DIR]`` into a config of dataclass ``cls``.

    Returns:
        The resolved config and the run folder (``--out``, else ``runs/<name>``).
    """
    parser = ArgumentParser(description=description)
    parser.add_argument("config", help="a TOML file in configs/")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, value typed as TOML (repeatable), e.g. --set optimizer.learning_rate=0.5",
    )
    parser.add_argument(
        "--out", help="run folder (default: runs/<name>); an existing one is replaced only if these scripts wrote it"
    )
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.set, cls)
    base = getattr(cfg, "base", cfg)  # a study's config holds the base Config
    if getattr(base, "distributed", None) is None or base.distributed.num_processes <= 1:
        check_backend()  # (several processes must call jax.distributed.initialize before any backend)
    # Checked now, before any training: a path that must not or cannot be written (docs/errors.md).
    return cfg, check_out(args.out if args.out is not None else Path("runs") / base.name)


def check_backend() -> None:
    """The backend ``JAX_PLATFORMS`` names must exist here: one line before the script prints anything.

    Raises:
        LogregError: e.g. ``JAX_PLATFORMS=tpu`` on a machine without one (JAX's own message is a
            long traceback).
    """
    platforms = os.environ.get("JAX_PLATFORMS", "")
    if not platforms:
        return
    try:
        jax.devices()
    except RuntimeError as err:
        if "Unable to initialize backend" not in str(err):
            raise
        raise LogregError(
            f"JAX_PLATFORMS={platforms!r}: {str(err).splitlines()[0]}; unset it or name a backend "
            "this machine has (e.g. cpu)"
        ) from None


def enable_compilation_cache(folder: str | Path | None = None) -> Path | None:
    """Turns on JAX's persistent compilation cache, so a second run of a config skips compiling.

    Args:
        folder: the cache folder; default ``$LOGREG_JAX_CACHE``, else ``.jax_cache/`` in the
            checkout. ``"off"`` leaves the cache off.

    Returns:
        The folder in use, or None when off.
    """
    import jax

    folder = folder if folder is not None else os.environ.get(CACHE_ENV, str(DEFAULT_CACHE))
    if str(folder).lower() in ("off", "0", "false", "none", ""):
        return None
    try:  # JAX would warn on every compile, in two lines, about a folder it cannot use
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(
            f"warning: {CACHE_ENV}={folder}: cannot use it as the compilation cache folder "
            f"({err.strerror or err}); compiling without a cache",
            file=sys.stderr,
        )
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    # Cache every program, however small or quick to compile: these are the ones a run repeats.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return Path(folder)


def use_cpu_cores() -> None:
    """Makes JAX's CPU backend one device per core this process may run on, so that a program
    that shares its work among the local devices (the bootstrap's refits) runs on every core: XLA
    runs one device's program on one core at a time. Programs that do not share their work (all but
    the bootstrap and ``distributed.data_parallel`` training) still run on device 0 alone.

    Left as it is where ``JAX_NUM_CPU_DEVICES`` or ``XLA_FLAGS`` already set the count, and once
    the backend has started (the setting only applies before it does).
    """
    if "JAX_NUM_CPU_DEVICES" in os.environ or "host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        jax.config.update("jax_num_cpu_devices", cores)
    except RuntimeError:  # the backend has started (a test or a notebook calling a script's main)
        pass


@functools.cache  # once per process: a later call would also freeze what the process made since
def freeze_imports() -> None:
    """Moves every object alive now (the imported modules: JAX, NumPy, matplotlib) out of reach of
    the garbage collector (``gc.freeze``). They live as long as the process, yet each full
    collection would scan all of them again; tracing and lowering a program allocates enough to
    trigger several, which made them a large share of a short run's fixed cost (benchmarks/RESULTS.md)."""
    gc.freeze()


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that ``finally`` blocks (staged folders) clean up."""


def _terminate(signum, frame):
    errors.pending.append(Terminated)
    raise Terminated


def _interrupt(signum, frame):
    errors.pending.append(KeyboardInterrupt)
    raise KeyboardInterrupt


def os_error_message(err: OSError) -> str:
    """An ``OSError`` as "path: what went wrong", without Python's ``[Errno N]`` prefix."""
    paths = " -> ".join(str(f) for f in (err.filename, err.filename2) if f is not None)
    what = err.strerror or str(err)
    return f"{paths}: {what.lower()}" if paths else f"cannot read or write a file: {what.lower()}"


def run_main(main: Callable[[], None]) -> None:
    """Runs a script's ``main`` on every CPU core (:func:`use_cpu_cores`) with the compilation cache
    on (:func:`enable_compilation_cache`);
    a :class:`LogregError`, or a file that cannot be read or written (``OSError``, which names
    the file), becomes one line on stderr and exit 2. Ctrl-C (exit 130) and SIGTERM (exit 143)
    print one line; the run folder being written is removed, any earlier one left as it was."""
    signal.signal(signal.SIGINT, _interrupt)  # the scripts quiet it while importing
    signal.signal(signal.SIGTERM, _terminate)
    errors.pending.clear()
    try:
        use_cpu_cores()
        enable_compilation_cache()
        freeze_imports()
        main()
        errors.raise_pending()  # raised inside a callback that swallowed it (e.g. matplotlib's): still stop
    except LogregError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except OSError as err:
        print(f"error: {os_error_message(err)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        _ignore_signals()  # a second Ctrl-C during interpreter shutdown must not print a traceback
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Terminated:
        _ignore_signals()
        print("terminated", file=sys.stderr)
        sys.exit(143)
    finally:
        errors.pending.clear()  # handled here; a caller that goes on (a test, a notebook) starts clean


def _ignore_signals() -> None:
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_IGN)
