"""pinnrun installed from a built wheel (not editable) still finds its configs."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_configs_ship_in_the_wheel(tmp_path):
    pip = [sys.executable, "-m", "pip", "-q"]
    # the wheel by uv where make installed it (the same setuptools build, in a cached build
    # environment: 2 s, not pip's 8), else by pip
    uv = Path(sys.executable).parent / "uv"
    build = [str(uv), "build", "-q", "--wheel", "-o"] if uv.exists() else pip + ["wheel", "--no-deps", "-w"]
    subprocess.run(build + [str(tmp_path / "whl"), str(ROOT)], check=True)
    (wheel,) = (tmp_path / "whl").glob("pinnrun-*.whl")
    site = tmp_path / "site"
    subprocess.run(pip + ["install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(site), "PINNRUN_DATA_DIR": str(tmp_path / "data")}
    where = subprocess.run(
        [sys.executable, "-c", "import pinnrun; print(pinnrun.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(site))  # the wheel's copy, not the checkout
    out = subprocess.run(
        [sys.executable, "-m", "pinnrun", "experiment=raissi_nls", "--cfg", "job"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "residual: 20000" in out.stdout and "l2: 0.00197" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "pinnrun", "model=nope"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "mlp" in bad.stderr and "mscale" in bad.stderr


def test_no_class_of_the_package_is_over_200_lines():
    """A class that outgrows 200 lines (its docstrings included) is doing more than one job: split it
    (as Problem's reference data went to its base class ReferenceData)."""
    import ast

    long = []
    for path in sorted((ROOT / "pinnrun").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 200:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1}")
    assert not long, long
