"""The documentation: the gallery covers every equation and preset and its figures exist, the
README stays short, the results tables quote the numbers the benchmarks wrote, the site's
navigation and generated configuration reference cover what is there. No training, no MkDocs
build (`make docs` builds the site with --strict)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys

import pytest
import yaml

from helpers import REPO, load_script

DOCS = REPO / "docs"
RESULTS_HEADER = "| experiment | steps | pinnrun | published |"


def conf_names(group: str) -> set[str]:
    return {p.stem for p in (REPO / "conf" / group).glob("*.yaml")}


@pytest.fixture(scope="module")
def gallery() -> list[dict]:
    return json.loads((DOCS / "gallery.json").read_text())


@pytest.fixture(scope="module")
def hooks():
    spec = importlib.util.spec_from_file_location("pinnrun_docs_hooks", DOCS / "hooks" / "pinnrun_docs.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


# -- the gallery -------------------------------------------------------------------------------


def test_gallery_covers_every_equation_and_preset(gallery):
    by_kind = {kind: {e["name"] for e in gallery if e["kind"] == kind} for kind in ("equation", "preset")}
    assert by_kind["equation"] == conf_names("equation")
    assert by_kind["preset"] == conf_names("experiment")
    assert len(gallery) == len({e["name"] for e in gallery}), "an entry twice"
    assert {e["kind"] for e in gallery} == {"equation", "preset"}


def test_every_gallery_entry_says_its_command_budget_and_result(gallery):
    for e in gallery:
        choice = "equation" if e["kind"] == "equation" else "experiment"
        assert e["command"].startswith(f"pinnrun {choice}={e['name']}"), e["command"]
        assert "trainer.threads=1" in e["command"], e["command"]
        assert re.fullmatch(r"[0-9a-f]{4,40}|unknown", e["commit"]), e["commit"]
        if e["status"] == "failed":  # listed with its one-line error, not hidden
            assert e["error"] and "\n" not in e["error"], e
            continue
        assert e["status"] in ("completed", "diverged"), e
        assert e["budget"].endswith("steps") and e["steps"] > 0 and e["full_steps"] >= e["steps"], e
        assert e["metric"] and (e["value"] is None or e["value"] >= 0), e
        assert e["wall_time_s"] > 0 and e["process_s"] >= e["wall_time_s"], e


def test_every_gallery_figure_exists_and_the_gallery_stays_small(gallery):
    figures = [e["figure"] for e in gallery if e.get("figure")]
    assert figures, "no figures"
    for e in gallery:
        if e["status"] != "failed" and e["kind"] == "equation":
            assert e.get("figure"), f"{e['name']}: no figure"
    for f in figures:
        assert f == f"img/gallery/{f.rsplit('/', 1)[-1]}" and (DOCS / f).is_file(), f
    size = sum(p.stat().st_size for p in (DOCS / "img" / "gallery").glob("*.png"))
    assert size < 6e6, f"docs/img/gallery holds {size / 1e6:.1f} MB"
    unlisted = {p.name for p in (DOCS / "img" / "gallery").glob("*.png")} - {f.rsplit("/", 1)[-1] for f in figures}
    assert not unlisted, f"figures no entry lists: {sorted(unlisted)}"


def test_gallery_page_is_written_from_the_entries(gallery):
    page = (DOCS / "gallery.md").read_text()
    for e in gallery:
        assert f"### {e['name']}\n" in page, e["name"]
        assert e["command"] in page, e["command"]
        if e.get("figure"):
            assert f"({e['figure']})" in page
        if e["status"] == "failed":
            assert e["error"] in page


def test_gallery_script_has_an_entry_for_every_config():
    gallery = load_script("gallery")
    entries = gallery.entries()
    assert {n for n, e in entries.items() if e.kind == "equation"} == conf_names("equation")
    assert {n for n, e in entries.items() if e.kind == "preset"} == conf_names("experiment")
    for e in entries.values():  # each key once on the command line: a later cut replaced the smoke value
        keys = [o.split("=", 1)[0] for o in e.overrides]
        assert len(keys) == len(set(keys)), e.command


# -- the README and the results tables ---------------------------------------------------------


def test_readme_is_short_and_keeps_the_two_commands():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) < 150
    assert "    make run     #" in text and "    make test    #" in text
    assert "torch==2.13.0" in text and "CUDA build" in text


def test_the_default_runs_number_is_the_same_wherever_it_is_quoted():
    """The default run's l2/h_abs: README, getting started (rounded, and to four digits),
    docs/PERFORMANCE.md's re-measurement and the accuracy test's constant agree."""
    readme = re.search(r"spectral reference: ([0-9.]+e-[0-9]+) on a 2-core CPU", (REPO / "README.md").read_text())
    started = re.search(
        r"\| 2 \(the default[^|]*\| \*\*([0-9.]+e-[0-9]+)\*\* \(([0-9.]+e-[0-9]+)\)",
        (REPO / "docs" / "getting-started.md").read_text(),
    )
    performance = re.search(
        r"l2/h_abs ([0-9.]+e-[0-9]+), [0-9.]+ s of training", (REPO / "docs" / "PERFORMANCE.md").read_text()
    )
    constant = re.search(
        r"^README_L2 = ([0-9.]+e-[0-9]+)$", (REPO / "tests" / "test_cli_accuracy.py").read_text(), re.M
    )
    assert readme and started and performance and constant
    rounded, precise = started.group(1), float(started.group(2))
    assert readme.group(1) == rounded == constant.group(1)
    # the three digits a rounding of the four (1.635e-2 is 0.0163512 rounded: 1.64e-2)
    half_unit = 0.5 * 10 ** (int(rounded.split("e")[1]) - 2)  # of the last of three digits
    assert float(performance.group(1)) == precise and abs(float(rounded) - precise) <= half_unit * (1 + 1e-9)


def test_readme_links_lead_to_files():
    text = (REPO / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    assert links
    for link in links:
        if not re.match(r"^[a-z]+:", link):
            assert (REPO / link).exists(), link


def results_rows(path):
    """(experiment, steps, measured, published) of the results tables of a Markdown file."""
    rows, inside = [], False
    for line in path.read_text().splitlines():
        if line.strip() == RESULTS_HEADER:
            inside = True
            continue
        if inside and line.startswith("| ---"):
            continue
        if inside and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            name = re.search(r"`([a-z0-9_]+)`", cells[0]).group(1)
            rows.append((name, int(cells[1]), cells[2], cells[3]))
        else:
            inside = False
    return rows


def same(cell: str, value: float | None) -> bool:
    """The cell quotes the value to the three digits the docs print."""
    if value is None:
        return cell == "-"
    return cell != "-" and float(cell) == float(f"{value:.3g}")


def sources(name: str, steps: int) -> tuple[list[float], list[float | None]]:
    """The measured and published values the data files hold for a preset at a step count:
    docs/reproduction.json's entries, else docs/variants.json's runs of the preset as shipped
    (no variant overrides) with the preset's published number."""
    entries = [
        e
        for e in json.loads((DOCS / "reproduction.json").read_text())
        if e["experiment"] == name and e["steps"] == steps and e["status"] == "completed"
    ]
    if entries:
        return [e["measured_l2"] for e in entries], [e["published_l2"] for e in entries]
    suites = load_script("variants").SUITES
    shipped = {
        (suite, eq, var)
        for suite, spec in suites.items()
        for eq, args in spec["equations"].items()
        if args == [f"experiment={name}"]
        for var, vargs in spec["variants"].items()
        if not vargs
    }
    runs = [
        r
        for r in json.loads((DOCS / "variants.json").read_text())
        if (r["suite"], r["equation"], r["variant"]) in shipped and r["steps"] == steps
    ]
    preset = yaml.safe_load((REPO / "conf" / "experiment" / f"{name}.yaml").read_text())
    return [r["l2"] for r in runs], [(preset.get("published") or {}).get("l2")]


@pytest.mark.parametrize("page", ["README.md", "docs/results.md"])
def test_results_tables_quote_the_benchmarks_data(page):
    rows = results_rows(REPO / page)
    assert len(rows) >= 4, f"{page}: no results table ({RESULTS_HEADER})"
    for name, steps, measured, published in rows:
        found, pub = sources(name, steps)
        assert found, f"{page}: {name} at {steps} steps is in no data file"
        assert any(same(measured, v) for v in found), f"{page}: {name} {measured}, the data: {found}"
        assert any(same(published, v) for v in pub), f"{page}: {name} published {published}, the data: {pub}"


# -- the site ----------------------------------------------------------------------------------


def nav_pages(nav) -> list[str]:
    out = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        out += nav_pages(value) if isinstance(value, list) else [value]
    return out


def test_every_page_is_in_the_navigation_and_every_nav_page_exists(hooks):
    site = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    pages = nav_pages(site["nav"])
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md") if "hooks" not in p.parts}
    generated = set(hooks.GENERATED)
    assert set(pages) == on_disk | generated
    assert not on_disk & generated, "a generated page is also a file"
    assert site["hooks"] == ["docs/hooks/pinnrun_docs.py"] and site["site_dir"] == "build/site"


def test_configuration_reference_covers_every_group_option_and_key(hooks):
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    from pinnrun.config import register

    page = hooks.config_reference()
    for group in ("equation", "model", "optimizer", "weighting", "sampler", "trainer", "experiment", "search"):
        assert f"\n## {group}\n" in page, group
        for option in conf_names(group):
            assert f"| `{option}` |" in page, f"{group}={option}"
    for option in (p.stem for p in (REPO / "conf" / "hydra" / "launcher").glob("*.yaml")):
        assert f"| `{option}` |" in page, f"hydra/launcher={option}"

    register()
    with initialize_config_module("pinnrun.conf", version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config"), enum_to_str=True)

    def keys(node, prefix=""):
        for k, v in node.items():
            if isinstance(v, dict) and k not in ("domain", "points", "params", "groups", "weights"):
                if k in ("per_condition", "learned_periods", "unknowns"):
                    yield prefix + k
                else:
                    yield from keys(v, f"{prefix}{k}.")
            else:
                yield prefix + k

    rows = hooks.schema_rows()
    for group, node in cfg.items():
        if isinstance(node, dict) and group in rows:
            if group == "optimizer":
                node = {"phases": None, **{f"phases.<i>.{k}": None for k in node["phases"][0]}}
            documented = {r[0] for r in rows[group]}
            for key in keys(node):
                assert key in documented, f"{group}.{key} is not in the configuration reference"
                assert f"| `{key}` |" in page
        elif group in ("seed", "logger"):
            assert group in {r[0] for r in rows[""]}
    for section in rows.values():  # every key says what it is
        for key, _, _, meaning in section:
            assert meaning.strip(), f"{key}: no meaning"


def test_a_suite_on_one_equation_is_drawn_as_bars(tmp_path, monkeypatch):
    """The Allen-Cahn ablation (one equation, six variants) is a bar per variant, not six dots
    stacked on one x position; a sweep over equations (SIP's xi) stays a line per variant."""
    from matplotlib.figure import Figure

    variants = load_script("variants")
    drawn = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: drawn.append(fig))
    results = json.loads((DOCS / "variants.json").read_text())
    variants.figure(results, "allen_cahn_ablation", tmp_path / "ablation.png")
    (ax,) = drawn[-1].axes
    assert len(ax.patches) == len(variants.SUITES["allen_cahn_ablation"]["variants"]) and not ax.lines
    assert [t.get_text() for t in ax.get_yticklabels()] == list(variants.SUITES["allen_cahn_ablation"]["variants"])
    variants.figure(results, "sip_synthetic", tmp_path / "sip.png")
    assert all(not ax.patches and ax.lines for ax in drawn[-1].axes)
