"""What every experiment script shares: arguments, config loading, and one-line errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from logreg_jax.config import Config, load_config
from logreg_jax.errors import LogregError


def parse_args(argv: Sequence[str] | None, description: str, cls: type = Config) -> tuple[Config, Path]:
    """Parses ``CONFIG [--set key=value ...] [--out DIR]`` into a config of dataclass ``cls``.

    Returns:
        The resolved config and the run folder (``--out``, else ``runs/<name>``).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("config", help="a TOML file in configs/")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, value typed as TOML (repeatable), "
                             "e.g. --set optimizer.learning_rate=0.5")
    parser.add_argument("--out", type=Path, help="run folder (default: runs/<name>)")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.set, cls)
    return cfg, args.out if args.out is not None else Path("runs") / cfg.name


def run_main(main: Callable[[], None]) -> None:
    """Runs a script's ``main``; a :class:`LogregError` becomes one line on stderr and exit 2."""
    try:
        main()
    except LogregError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)

