"""``python -m pinnrun.reference [names...]``: (re)build reference datasets (default: all).

``python -m pinnrun.reference --pinnacle [files...]``: fetch PINNacle's reference files instead
(default: all of them; see :mod:`pinnrun.reference.pinnacle`): those missing are fetched, those in
place checked against their SHA-256.
"""

from __future__ import annotations

import argparse
import sys
import time

from pinnrun.config import ConfigError
from pinnrun.reference import BUILDERS, build, load, pinnacle


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pinnrun.reference",
        description="Build reference datasets into $PINNRUN_DATA_DIR (default <repo>/data "
        "in a checkout, else ~/.cache/pinnrun/data), overwriting existing files.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="name",
        help=f"datasets to build (default: all of {', '.join(sorted(BUILDERS))}); "
        "with --pinnacle, PINNacle files to fetch (default: all)",
    )
    parser.add_argument(
        "--pinnacle",
        action="store_true",
        help=f"fetch PINNacle's reference files ({', '.join(sorted(pinnacle.SHA256))}) into "
        f"<data dir>/{pinnacle.FOLDER}/ (from ${pinnacle.URL_ENV}, default the pinned commit of "
        "i207M/PINNacle), checking their SHA-256; files in place are checked, not fetched again",
    )
    args = parser.parse_args(argv)
    if args.pinnacle:
        return fetch_pinnacle(args.names)
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


def fetch_pinnacle(files: list[str]) -> int:
    """Fetch the missing PINNacle files among ``files`` (default: all), check those in place;
    one line each. 0: all in place and right; 1: one failed; 2: an unknown name."""
    files = files or sorted(pinnacle.SHA256)
    unknown = [f for f in files if f not in pinnacle.SHA256]
    if unknown:
        print(
            f"error: unknown PINNacle reference file {', '.join(unknown)}: "
            f"known are {', '.join(sorted(pinnacle.SHA256))}",
            file=sys.stderr,
        )
        return 2
    failed = 0
    for file in files:
        start = time.perf_counter()
        path = pinnacle.path(file)
        try:
            if path.exists():
                problem = pinnacle.verify(file)
                if problem is not None:
                    raise ConfigError(problem)
                how = "in place, checksum ok"
            else:
                print(f"fetching {pinnacle.url(file)}", flush=True)
                pinnacle.download(file)
                how = "fetched, checksum ok"
        except (ConfigError, OSError, pinnacle.FetchFailed) as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            failed += 1
            continue
        print(f"{path}  {how}  {time.perf_counter() - start:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
