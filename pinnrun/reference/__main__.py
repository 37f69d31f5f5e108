"""``python -m pinnrun.reference [names...]``: (re)build reference datasets (default: all)."""

from __future__ import annotations

import argparse
import sys
import time

from pinnrun.config import ConfigError
from pinnrun.reference import BUILDERS, build, load


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pinnrun.reference",
        description="Build reference datasets into $PINNRUN_DATA_DIR (default <repo>/data "
        "in a checkout, else ~/.cache/pinnrun/data), overwriting existing files.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="name", help=f"datasets to build (default: all of {', '.join(sorted(BUILDERS))})"
    )
    args = parser.parse_args(argv)
    names = args.names or sorted(BUILDERS)
    unknown = [n for n in names if n not in BUILDERS]
    if unknown:
        print(
            f"error: unknown reference dataset {', '.join(unknown)}: available are {', '.join(sorted(BUILDERS))}",
            file=sys.stderr,
        )
        return 2
    for name in names:
        start = time.perf_counter()
        try:
            path = build(name)
            grid, ref = load(path)
        except (ConfigError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        shape = tuple(len(a) for a in grid.values())
        print(
            f"{path}  {','.join(grid)} = {shape}  fields {','.join(ref)}  {time.perf_counter() - start:.1f} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
