"""pinnrun-export: a trained run's network as a self-contained file, for use without pinnrun.

    pinnrun-export RUN_DIR --format torchscript          # RUN_DIR/export/model.pt
    pinnrun-export RUN_DIR --format onnx --out model.onnx

The exported function maps points (n, d), columns in the order of the equation's variables
(in the training dtype, float32 unless trainer.dtype=float64), to the fields (n, k) in the order
of the equation's fields (outputs and derived ones such as |h|): the input scaling, embeddings
and any hard-constraint transform are inside, so it gives what ``pinnrun.load(RUN_DIR).predict``
gives. What the columns are is stored with it as JSON ("pinnrun": variables, fields, domain,
dtype, run directory, step): TorchScript's extra file ``pinnrun.json``
(``torch.jit.load(path, _extra_files={"pinnrun.json": ""})``), ONNX's metadata property
``pinnrun``. TorchScript comes from ``torch.jit.trace``; ONNX from torch's exporter
(``torch.onnx.export``, dynamo), which needs the ``export`` extra (onnx, onnxscript; onnxruntime
to run the file).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from pinnrun import io
from pinnrun.api import Run, load
from pinnrun.config import ConfigError
from pinnrun.predict import EXIT_BAD_INPUT, _Parser

FORMATS = {"torchscript": ".pt", "onnx": ".onnx"}


def metadata(run: Run) -> dict[str, Any]:
    """What the exported function's columns are, and where it came from."""
    return {
        "variables": list(run.variables),
        "fields": list(run.predictor.columns),
        "domain": {k: list(v) for k, v in run.domain.items()},
        "dtype": str(next(run.model.parameters()).dtype).removeprefix("torch."),
        "run_dir": str(run.run_dir.resolve()),
        "checkpoint": str(run.checkpoint),
        "step": run.step,
        "equation": run.config.equation.name,
    }


def export(run: Run, fmt: str, out: Path) -> Path:
    """Write ``run``'s network in format ``fmt`` ("torchscript" or "onnx") to ``out``, atomically."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt}: choose {' or '.join(FORMATS)}")
    # points -> the fields' columns; a copy: the run's own network stays as it is
    module = copy.deepcopy(run.predictor.module()).eval().requires_grad_(False)
    example = run.predictor.example()  # points inside the domain (or drawn observations) to trace with
    meta = json.dumps(metadata(run))
    with io.atomic_path(out) as tmp, torch.no_grad():
        if fmt == "torchscript":
            with warnings.catch_warnings():  # constants made in forward (a SIP rotation) are constants
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                traced = torch.jit.trace(module, example, check_trace=False)
            torch.jit.save(traced, str(tmp), _extra_files={"pinnrun.json": meta})
        else:
            _onnx(module, example, tmp, meta)
    return out


def _onnx(module: torch.nn.Module, example: torch.Tensor, path: Path, meta: str) -> None:
    try:
        import onnx
        import onnxscript  # noqa: F401 - torch's dynamo exporter needs it
    except ImportError:
        raise ConfigError("--format onnx needs the onnx packages: pip install 'pinnrun[export]'") from None
    n = torch.export.Dim("n", min=1)
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the exporter's notes on operators pinnrun does not use
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                (example,),
                dynamo=True,
                input_names=["points"],
                output_names=["fields"],
                dynamic_shapes=({0: n},),
                verbose=False,
            )
    finally:
        quiet.setLevel(level)
    model = program.model_proto
    entry = model.metadata_props.add()
    entry.key, entry.value = "pinnrun", meta
    onnx.save(model, str(path))


def main(argv: Sequence[str] | None = None) -> int:
    ap = _Parser(
        prog="pinnrun-export",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:4]),
    )
    ap.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a pinnrun run directory")
    ap.add_argument("--format", required=True, choices=sorted(FORMATS), help="torchscript or onnx")
    ap.add_argument("--out", type=Path, metavar="FILE", help="default: RUN_DIR/export/model.pt or model.onnx")
    ap.add_argument("--checkpoint", default="last", help="last (the final state; default), best, or a .pt path")
    args = ap.parse_args(argv)
    out = args.out or args.run_dir / "export" / f"model{FORMATS[args.format]}"
    try:
        io.check_dir(out.parent, "output directory", "--out")
        export(load(args.run_dir, checkpoint=args.checkpoint), args.format, out)
    except ConfigError as e:
        print(f"pinnrun-export: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
