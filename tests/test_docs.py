"""The documentation: the gallery covers every equation and preset and its figures exist, the
README stays short, the results tables quote the numbers the benchmarks wrote, the site's
navigation and generated configuration reference cover what is there. No training, no MkDocs
build (`make docs` builds the site with --strict)."""

from __future__ import annotations

import bisect
import importlib.util
import json
import math
import re
import statistics
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


# -- every measured number the pages quote -----------------------------------------------------

#: a number in scientific notation: 2.36e-3, 4e-11, 2.5e3
SCIENTIFIC = re.compile(r"(?<![\w.+-])(\d+(?:\.\d+)?[eE][-+]?\d+)(?![\w.])")
#: a decimal: 0.764, 368.5, 1.65x (a ratio), 1.73 of -1.73 and 0.996 of 0.90-0.996 (a sign or
#: a range's dash before it), 8.000. (a sentence's full stop after it); not a part of a dotted
#: version (2.13.0), of a name (v1.2, x_1.5) or of a number in scientific notation
DECIMAL = re.compile(r"(?<![\w.+])(?<![A-Za-z_]-)(\d+\.\d+)(?!\.\w|[^\Wx]|x\w)")
#: a bare power of ten (1e-3, 1e5) is a setting, a tolerance or an order of magnitude: measured
#: numbers are written with their digits
POWER_OF_TEN = re.compile(r"1[eE][-+]?\d+")
#: a decimal with fewer significant digits (0.5, 2.6, 0.035) is an approximation, a bound or a
#: setting as often as a measurement, and too short to tell one value from another
DECIMAL_DIGITS = 3
#: Numbers that by their context are no quantity, without an entry each: an arXiv identifier
#: (arXiv:2306.08827), a version (Python 3.10 or newer, Optuna 2.10) and a setting's value in a
#: code span (`model.learned_periods={t: 6.28}`, `equation.unknowns.nu=0.0024787521766663585`);
#: a code span's other numbers are checked. A file:line reference holds no decimal point.
ARXIV = re.compile(r"arXiv:$")
VERSION = re.compile(r"\b(?:[Pp]ython3?|[Oo]ptuna|torch|PyTorch|DeepXDE|PhiFlow)[ =<>~]*$")
VERSION_AFTER = re.compile(r" or (?:newer|later)\b")
SETTING_IN_CODE = re.compile(r"`[^`]*[=:] ?$")
GENERATED_BLOCK = re.compile(r"<!-- (\w+):begin -->.*?<!-- \1:end -->", re.S)
#: a page a script writes whole from its data file (docs/gallery.md)
GENERATED_PAGE = "<!-- written by benchmarks/"

#: Numbers that are not measurements, each with why; where the number is arithmetic, the
#: expression it rounds (the test recomputes it). Keyed by the page and the words around the
#: number on its line.
NOT_MEASURED = [
    ("docs/PRESETS.md", "SGD lr 2e-6", "the SIP authors' SGD learning rate (S:48), a setting", None),
    (
        "docs/PRESETS.md",
        "(2.3e-5 rad",
        "pi/4 against the authors' 45 degrees of 3.1415 / 180",
        math.pi / 4 - 45 * 3.1415 / 180,
    ),
    (
        "docs/PRESETS.md",
        "uses 3.1415 / 180",
        "the value of pi in PhiFlow's `degrees`, a constant of the SIP code",
        None,
    ),
    ("docs/PRESETS.md", "authors' 0.785375", "45 degrees in radians with PhiFlow's pi", 45 * 3.1415 / 180),
    ("docs/PRESETS.md", "[-1.73, 1.73]", "standardised inputs on a box span sqrt(3) times [-1, 1]", math.sqrt(3)),
    (
        "docs/PERFORMANCE.md",
        "exact 0.91172",
        "the plate's area: the unit square minus 16 disks of radius 0.04 and one of 0.05",
        1 - math.pi * (16 * 0.04**2 + 0.05**2),
    ),
    ("docs/PERFORMANCE.md", "and 8.33540", "the plate's boundary length", 4 + 2 * math.pi * (16 * 0.04 + 0.05)),
    (
        "docs/REPRODUCTION.md",
        "f ~ 2.5e3",
        "poisson_multiscale's source term: a (k2 pi)^2, a = 0.1, k2 = 50",
        0.1 * (50 * math.pi) ** 2,
    ),
    (
        "docs/REPRODUCTION.md",
        "lr 1.9e-4 at the end",
        "the learning rate after 40000 steps: 1e-3 * 0.9^(40000 / 2500)",
        1e-3 * 0.9 ** (40000 / 2500),
    ),
    (
        "docs/REPRODUCTION.md",
        "still at 5.3e-4",
        "jaxpi's learning rate at step 30000: 1e-3 * 0.9^(30000 / 5000)",
        1e-3 * 0.9 ** (30000 / 5000),
    ),
    (
        "docs/REPRODUCTION.md",
        "the issue's bar: 8.2e-3",
        "the bar the issue set for the wave recipe, not a result",
        None,
    ),
    ("docs/REPRODUCTION.md", "3 pi = 9.42", "the time embedding's initial w, the preset's 3 pi", 3 * math.pi),
    ("docs/REPRODUCTION.md", "80 / 9 = 8.889", "the trained w (seed 0), which the page writes as 80 / 9", 80 / 9),
    ("docs/REPRODUCTION.md", "10.000 (without)", "the trained w without causal training, written as 80 / 8", 80 / 8),
    ("docs/REPRODUCTION.md", "80 / 10 = 8.000", "seed 1's trained w, written as 80 / 10", 80 / 10),
]


def hand_written_pages() -> dict[str, list[str]]:
    """README.md, docs/*.md and docs/guide/*.md, each as its lines with the generated blocks
    blanked (the line numbers kept); the pages a script writes whole are left out."""
    pages = {}
    for path in [REPO / "README.md", *sorted(DOCS.glob("*.md")), *sorted((DOCS / "guide").glob("*.md"))]:
        text = path.read_text()
        if GENERATED_PAGE in text:
            continue
        text = GENERATED_BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        pages[str(path.relative_to(REPO))] = text.splitlines()
    return pages


def not_a_quantity(line: str, start: int, end: int) -> bool:
    """The number at line[start:end] is an arXiv identifier, a version or a setting's value in a
    code span (an odd count of backticks before it)."""
    before = line[:start]
    in_code = before.count("`") % 2 == 1
    return bool(
        ARXIV.search(before)
        or VERSION.search(before)
        or VERSION_AFTER.match(line, end)
        or (in_code and SETTING_IN_CODE.search(before))
    )


def quoted_numbers(pages: dict[str, list[str]]):
    """(page, line number, the number as printed, the line) of every number in scientific notation
    but the bare powers of ten, and of every decimal with three or more significant digits, but
    the arXiv identifiers, versions and settings (`not_a_quantity`)."""
    for page, lines in pages.items():
        for i, line in enumerate(lines, 1):
            found = [m for m in SCIENTIFIC.finditer(line) if not POWER_OF_TEN.fullmatch(m.group(1))]
            found += [
                m for m in DECIMAL.finditer(line) if len(m.group(1).replace(".", "").lstrip("0")) >= DECIMAL_DIGITS
            ]
            for m in sorted(found, key=lambda m: m.start()):
                if not not_a_quantity(line, m.start(1), m.end(1)):
                    yield page, i, m.group(1), line


def printed_range(printed: str) -> tuple[float, float]:
    """The values that print as the number at its significant digits: within half a unit of its
    last digit (a value halfway between two roundings may be printed as either)."""
    digits = len(re.split(r"[eE]", printed)[0].replace(".", "").lstrip("0"))
    number = float(printed)
    half_unit = 0.5 * 10 ** (math.floor(math.log10(abs(number))) - digits + 1) * (1 + 1e-9)
    return number - half_unit, number + half_unit


def rounds_to(value: float, printed: str) -> bool:
    low, high = printed_range(printed)
    return low <= value <= high


def sci(value: float) -> str:
    """2.36e-3 for 0.00236: the value as the pages write it."""
    mantissa, exponent = f"{value:.6e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def any_rounds_to(ordered: list[float], printed: str) -> bool:
    """One of the (sorted) values prints as the number."""
    low, high = printed_range(printed)
    i = bisect.bisect_left(ordered, low)
    return i < len(ordered) and ordered[i] <= high


def floats(node) -> list[float]:
    """The finite floats of a data file's tree, its times (`wall_time_s`, `cpu_s`, ...) left out:
    the fewer values, the fewer numbers a drifted copy can match by chance."""
    if isinstance(node, float):
        return [node] if math.isfinite(node) else []
    if isinstance(node, dict):
        node = [v for k, v in node.items() if not k.endswith("_s")]
    return [f for item in node for f in floats(item)] if isinstance(node, list) else []


def benchmark_values() -> list[float]:
    """Every number the benchmarks' data files and the presets hold: docs/reproduction.json,
    gallery.json and pinnacle.json; docs/variants.json's runs and what its tables and pages
    derive from them (per suite, equation and variant: the mean and median over the seeds, the
    mean of each metric and of each step's l2; on sip_synthetic the authors' relative x-distance,
    dist/x divided by xi); docs/reproduction.json's identified constants' errors in per cent, as
    its tables print them; each preset's `published:`."""
    values = []
    for name in ("reproduction", "gallery", "pinnacle", "variants"):
        values += floats(json.loads((DOCS / f"{name}.json").read_text()))
    for entry in json.loads((DOCS / "reproduction.json").read_text()):
        values += [100 * u["rel_error"] for u in entry.get("unknowns", {}).values()]
    groups: dict[tuple, list[dict]] = {}
    for r in json.loads((DOCS / "variants.json").read_text()):
        groups.setdefault((r["suite"], r["equation"], r["variant"]), []).append(r)
        xi = re.fullmatch(r"xi = ([0-9.]+)", r["equation"])
        if r["suite"] == "sip_synthetic" and xi and "dist/x" in r.get("final", {}):
            values.append(r["final"]["dist/x"] / float(xi.group(1)))
    for runs in groups.values():
        l2 = [r["l2"] for r in runs if r.get("l2") is not None]
        if l2:
            values += [statistics.mean(l2), statistics.median(l2)]
        for key in ("l2_at", "final"):
            for metric in {m for r in runs for m in r.get(key, {})}:
                seeds = [r[key][metric] for r in runs if isinstance(r.get(key, {}).get(metric), float)]
                values += [statistics.mean(seeds)] if seeds else []
    for preset in (REPO / "conf" / "experiment").glob("*.yaml"):
        values += floats((yaml.safe_load(preset.read_text()) or {}).get("published") or {})
    return values


@pytest.fixture(scope="module")
def measurements() -> list[dict]:
    return json.loads((DOCS / "measurements.json").read_text())


def test_every_measured_number_the_pages_quote_is_in_a_data_file(measurements):
    """Issue 30: no number appears in two places with different values. Every number that
    README.md and the docs pages write by hand (the generated blocks are written from their
    data) in scientific notation, or as a decimal of three or more significant digits, is, to
    the digits it is printed with, a value of a data file: the benchmarks' (docs/reproduction.json,
    variants.json, gallery.json, pinnacle.json, a preset's `published:`) or
    docs/measurements.json's, for the runs measured by hand; a record of the latter counts only
    on the pages it lists. A copy that drifts from its record, or a record changed without its
    copies, no longer matches (unless it hits another data value by chance: the next test holds
    each record to every page it lists). Left out by rule: bare powers of ten, arXiv
    identifiers, versions and a setting's value in a code span (`not_a_quantity`); the few other
    numbers that are not measurements are in NOT_MEASURED, each with why."""
    benchmarks = sorted(v for v in benchmark_values() if math.isfinite(v))
    wrong = []
    for page, line_no, printed, line in quoted_numbers(hand_written_pages()):
        if any_rounds_to(benchmarks, printed):
            continue
        low, high = printed_range(printed)
        records = [r for r in measurements if low <= r["value"] <= high]
        if any(page in r["pages"] for r in records):
            continue
        if any(p == page and printed in phrase and phrase in line for p, phrase, _, _ in NOT_MEASURED):
            continue
        hint = f" (docs/measurements.json's {records[0]['id']} has it, but does not list {page})" if records else ""
        wrong.append(f"{page}:{line_no}: {printed} is in no data file{hint}")
    assert not wrong, "\n".join(wrong)


def data_value(ref: str, by_id: dict[str, dict]) -> float:
    """What a record's `mean_of` or `ratio_of` names: another record's id,
    `docs/reproduction.json:<experiment>` (its measured_l2; `:<key>` for another key) or
    `docs/variants.json:<suite>:<equation>:<variant>` (the mean of its seeds' l2)."""
    source, _, key = ref.partition(":")
    if source == "docs/reproduction.json":
        experiment, _, field = key.partition(":")
        (entry,) = [e for e in json.loads((DOCS / "reproduction.json").read_text()) if e["experiment"] == experiment]
        return entry[field or "measured_l2"]
    if source == "docs/variants.json":
        group = tuple(key.split(":"))
        runs = [
            r
            for r in json.loads((DOCS / "variants.json").read_text())
            if (r["suite"], r["equation"], r["variant"]) == group
        ]
        assert runs, ref
        return statistics.mean(r["l2"] for r in runs)
    return by_id[ref]["value"]


def test_every_measurement_record_is_quoted_on_the_pages_it_lists(measurements):
    """docs/measurements.json: one record per number measured by hand (id, value, what it is,
    the command that measured it or, for a published number, its source, the pages that quote
    it). Each listed page quotes the record's value, so a record changed without its pages (or
    all copies on a page changed without the record) fails here, whatever other data value the
    changed copy hits by chance; a mean is the mean of the values it names (`mean_of`), a ratio
    their quotient (`ratio_of`). A number a benchmark data file holds gets no record: the test
    above takes it from that file."""
    by_id = {r["id"]: r for r in measurements}
    assert len(by_id) == len(measurements), "an id twice"
    pages = hand_written_pages()
    quotes: dict[str, list[tuple[float, float, str]]] = {}  # the printed range, the number and its line
    for page, line_no, printed, _ in quoted_numbers(pages):
        quotes.setdefault(page, []).append((*printed_range(printed), f"{printed} at {page}:{line_no}"))
    for r in measurements:
        assert isinstance(r["value"], float) and r["quantity"] and r["pages"], r["id"]
        assert r.get("command") or r["quantity"].startswith("published") and r.get("source"), r["id"]
        assert isinstance(r.get("steps", 0), int) and re.fullmatch(r"\d{4}-\d\d-\d\d", r.get("date", "2026-01-01")), r[
            "id"
        ]
        for page in r["pages"]:
            assert page in pages, f"{r['id']}: {page} is not a hand-written page"
            if not any(low <= r["value"] <= high for low, high, _ in quotes.get(page, [])):
                nearest = min(quotes.get(page, [(math.inf, math.inf, "nothing")]), key=lambda q: abs(q[0] - r["value"]))
                pytest.fail(
                    f"{r['id']}: {page} quotes no {sci(r['value'])}, the nearest is {nearest[2]} "
                    "(changed on the page, or in docs/measurements.json?)"
                )
        for kind, combine in (("mean_of", statistics.mean), ("ratio_of", lambda v: v[0] / v[1])):
            if kind in r:
                derived = combine([data_value(ref, by_id) for ref in r[kind]])
                assert rounds_to(derived, sci(r["value"])), f"{r['id']}: {sci(r['value'])}, {kind} gives {sci(derived)}"


def test_the_numbers_that_are_not_measurements_are_few_and_still_quoted():
    """NOT_MEASURED stays short, each entry is still on its page (a stale entry goes), and an
    arithmetic one is its expression to the digits printed."""
    assert len(NOT_MEASURED) <= 15
    pages = hand_written_pages()
    for page, phrase, why, computed in NOT_MEASURED:
        assert why and any(phrase in line for line in pages[page]), f"{page}: no {phrase!r}"
        numbers = {printed for _, _, printed, _ in quoted_numbers({page: [phrase]})}
        assert len(numbers) == 1, f"{page}: {phrase!r} holds {sorted(numbers)}"
        (printed,) = numbers
        assert computed is None or rounds_to(computed, printed), f"{page}: {printed}, computed {computed:.4g}"


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
