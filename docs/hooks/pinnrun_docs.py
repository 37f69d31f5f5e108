"""MkDocs hooks of pinnrun's documentation site (mkdocs.yml: ``hooks``).

- ``reference/configuration.md`` is generated at every build from the config schema
  (``pinnrun/config.py``: the dataclasses, their field comments and enum values) and from
  ``conf/`` (the groups, their options, and the values of the default config), so it cannot
  drift from the code.
- ``changelog.md`` is ``CHANGELOG.md`` at the repository's top.
- Links from a page to a file outside ``docs/`` (``../CHANGELOG.md`` from API.md, ``docs/API.md``
  from the changelog) are rewritten to the site's pages, so the Markdown files read the same on a
  forge and in the site.

``config_reference()`` and ``schema_rows()`` are plain functions: ``tests/test_docs.py`` calls
them without MkDocs.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import re
import tokenize
from enum import Enum
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"
SCHEMA = ROOT / "pinnrun" / "config.py"

#: the config groups (folders of conf/) with a schema section, in the order `pinnrun --cfg job` prints them
SCHEMA_GROUPS = ("equation", "model", "optimizer", "weighting", "sampler", "trainer")
#: groups without keys of their own: presets and Hydra's plugins' settings
OPTION_GROUPS = ("experiment", "search", "hydra/launcher")
#: the pages generated at build time (path under docs/ -> maker)
GENERATED = {"reference/configuration.md": "config_reference", "changelog.md": "changelog"}
#: files outside docs/ that are pages of the site
OUTSIDE = {"CHANGELOG.md": "changelog.md", "README.md": "index.md"}


# -- the schema's comments ---------------------------------------------------------------------


def _comments(source: str) -> dict[int, str]:
    """Line number -> the comment on that line."""
    found = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            found[tok.start[0]] = tok.string.lstrip("#").strip()
    return found


def _one_line(text: str) -> str:
    return " ".join(text.split())


def schema_docs() -> dict[str, dict[str, str]]:
    """Class name -> {field or enum member: its comment}, from pinnrun/config.py: the comment
    lines right above a field (section rules, ``# -- ...``, left out) and the one after it."""
    source = SCHEMA.read_text()
    lines = source.splitlines()
    comments = _comments(source)
    docs: dict[str, dict[str, str]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields: dict[str, str] = {}
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                name = item.target.id
            elif isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                name = item.targets[0].id
            else:
                continue
            above, n = [], item.lineno - 1
            while n >= 1 and lines[n - 1].strip().startswith("#"):
                above.insert(0, comments.get(n, ""))
                n -= 1
            above = _without_rules(above)
            after = comments.get(item.end_lineno, "")
            fields[name] = _one_line(" ".join([*above, after]))
        for name, text in attributes(ast.get_docstring(node) or "").items():
            fields[name] = fields.get(name) or text
        docs[node.name] = fields
    return docs


def _without_rules(lines: list[str]) -> list[str]:
    """Comment lines less section rules (``-- embeddings (...) -----``, over one or more lines)."""
    kept, inside = [], False
    for line in lines:
        if line.startswith("--"):
            inside = True
        if not inside:
            kept.append(line)
        if inside and line.endswith("---"):
            inside = False
    return kept


def attributes(docstring: str) -> dict[str, str]:
    """The ``Attributes:`` section of a docstring (Google style): name -> its text on one line."""
    found: dict[str, str] = {}
    inside, name = False, None
    for line in docstring.splitlines():
        if line.strip() == "Attributes:":
            inside = True
            continue
        if not inside:
            continue
        if not line.strip():
            break
        m = re.match(r"^    (\w+): (.*)$", line)
        if m:
            name = m.group(1)
            found[name] = m.group(2).strip()
        elif name and line.startswith("        "):
            found[name] += " " + line.strip()
        else:
            break
    return found


def yaml_comments(path: Path) -> dict[str, str]:
    """Top-level key -> its inline comment in a conf file (conf/trainer/default.yaml documents its keys so)."""
    found = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^(\w+):[^#]*#\s*(.+)$", line)
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found


# -- the schema's keys -------------------------------------------------------------------------


def _type_name(tp) -> str:
    """A field's type as a reader wants it: the enum's values, list[int], a dict's value type."""
    import typing

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return " | ".join(f"`{m.value}`" for m in tp)
    if origin is typing.Union or type(tp).__name__ == "UnionType":
        inner = [a for a in args if a is not type(None)]
        return " or ".join(_type_name(a) for a in inner) + (" or null" if len(inner) < len(args) else "")
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"{{{_type_name(args[0])}: {_type_name(args[1])}}}" if args else "dict"
    if tp is typing.Any:
        return "any"
    return getattr(tp, "__name__", str(tp))


def _default_value(value) -> str:
    if value is None:
        return "`null`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list) and value and isinstance(value[0], dict) and "kind" in value[0]:
        return " then ".join(f"`{p['kind']}` {p['steps']} steps" for p in value)  # optimizer.phases
    text = _inline(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"`{text}`" if text else "`''`"


def default_config():
    """The config `pinnrun` runs with no arguments (composed by Hydra from conf/)."""
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    from pinnrun.config import register

    register()
    with initialize_config_module("pinnrun.conf", version_base="1.3"):
        return OmegaConf.to_container(compose("config"), resolve=False, enum_to_str=True)


def schema_rows() -> dict[str, list[tuple[str, str, str, str]]]:
    """Section -> rows (dotted key, type, default, meaning) of every key of the schema:
    the top-level keys under "" and each group's under its name. Defaults are the default
    config's; per-equation keys say so."""
    import typing

    from pinnrun import config as schema

    docs = schema_docs()
    defaults = default_config()

    def walk(cls, prefix: str, values) -> list[tuple[str, str, str, str]]:
        rows = []
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            value = values.get(f.name) if isinstance(values, dict) else None
            meaning = docs.get(cls.__name__, {}).get(f.name, "")
            inner = typing.get_args(tp)
            if tp is not None and dataclasses.is_dataclass(tp):
                rows += walk(tp, f"{prefix}{f.name}.", value or {})
                continue
            if typing.get_origin(tp) is list and inner and dataclasses.is_dataclass(inner[0]):
                # optimizer.phases: a list of phases, each with the keys below
                rows.append((f"{prefix}{f.name}", f"list of {inner[0].__name__}", _default_value(value), meaning))
                first = value[0] if value else {}
                rows += walk(inner[0], f"{prefix}{f.name}.<i>.", first)
                continue
            if isinstance(tp, type) and issubclass(tp, Enum):
                values_doc = docs.get(tp.__name__, {})
                explained = [f"`{m.value}`: {values_doc[m.name]}" for m in tp if values_doc.get(m.name)]
                if explained:
                    meaning = f"{meaning} ({'; '.join(explained)})" if meaning else "; ".join(explained)
            rows.append((f"{prefix}{f.name}", _type_name(tp), _default_value(value), meaning))
        return rows

    sections: dict[str, list] = {"": []}
    hints = typing.get_type_hints(schema.RunConfig)
    for f in dataclasses.fields(schema.RunConfig):
        tp = hints[f.name]
        if f.name in SCHEMA_GROUPS:
            sections[f.name] = walk(tp, "", defaults[f.name])
        elif f.name == "published":
            sections[""] += [(k, t, "set by presets", m) for k, t, _, m in walk(schema.Published, "published.", {})]
        else:
            sections[""] += walk_field(schema.RunConfig, f, tp, defaults, docs)
    per_equation = ("domain", "points", "params", "name")
    for group, rows in sections.items():  # keys the schema leaves bare: the default option's comments
        option = CONF / group / f"{_choices().get(group, '')}.yaml"
        if group and option.is_file():
            notes = yaml_comments(option)
            sections[group] = [(k, t, d, m or notes.get(k, "")) for k, t, d, m in rows]
    sections["equation"] = [
        (k, t, "per equation" if k in per_equation else d, m) for k, t, d, m in sections["equation"]
    ]
    sections["optimizer"] = [
        (k, t, "per phase" if k.startswith("phases.<i>.") and k.split(".")[-1] in ("kind", "steps", "lr") else d, m)
        for k, t, d, m in sections["optimizer"]
    ]
    return sections


def walk_field(cls, f, tp, values, docs) -> list[tuple[str, str, str, str]]:
    meaning = docs.get(cls.__name__, {}).get(f.name, "")
    if isinstance(tp, type) and issubclass(tp, Enum):
        values_doc = docs.get(tp.__name__, {})
        explained = [f"`{m.value}`: {values_doc[m.name]}" for m in tp if values_doc.get(m.name)]
        meaning = "; ".join([meaning, *explained]) if meaning else "; ".join(explained)
    return [(f.name, _type_name(tp), _default_value(values.get(f.name)), meaning)]


# -- the options of each group -----------------------------------------------------------------


def header(path: Path) -> str:
    """The first sentence of a conf file's leading comment (``@package`` lines left out)."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if not text.startswith("@package"):
            lines.append(text)
    return first_sentence(_one_line(" ".join(lines)))


#: words a period follows inside a sentence
ABBREVIATIONS = {"al", "sec", "e.g", "i.e", "eq", "Eq", "fig", "Fig", "cf", "vs", "No", "ca"}


def first_sentence(text: str, limit: int = 240) -> str:
    """Up to the first full stop that ends a sentence (not "et al.", "sec. 3", "e.g."), at most
    ``limit`` characters."""
    for m in re.finditer(r"\.(\s+|$)", text):
        if text[m.start() - 1 : m.start()] == ".":  # an ellipsis
            continue
        word = re.split(r"[\s(]", text[: m.start()])[-1]
        if word in ABBREVIATIONS or re.fullmatch(r"[A-Z]", word):
            continue
        text = text[: m.start()]
        break
    return text if len(text) <= limit else text[: limit - 3].rsplit(" ", 1)[0] + " ..."


def options(group: str) -> list[Path]:
    return sorted((CONF / group).glob("*.yaml"))


def _inline(value) -> str:
    """A YAML value on one line."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()


def _flat(data, prefix: str = "") -> list[str]:
    out = []
    for k, v in (data or {}).items():
        if k in ("defaults", "published", "hydra"):
            continue
        if isinstance(v, dict) and v:
            out += _flat(v, f"{prefix}{k}.")
        else:
            out.append(f"{prefix}{k}={_inline(v)}")
    return out


def _sets(path: Path, limit: int = 6) -> str:
    data = yaml.safe_load(path.read_text()) or {}
    if "phases" in data:  # an optimizer: its phases in one line
        phases = [
            f"{p.get('kind')} {p.get('steps')} steps" + (f", lr {p['lr']:g}" if "lr" in p else "")
            for p in data["phases"]
        ]
        return " then ".join(phases)
    items = _flat(data)
    shown = ", ".join(f"`{i}`" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _cell(text: str) -> str:
    """Text for a table cell: pipes escaped, no line breaks."""
    return _one_line(text).replace("|", "\\|")


def _esc(text: str) -> str:
    """Formulas in prose (u_t, a*b, <x>) shown as written."""
    for c in "\\`*_<>[]":
        text = text.replace(c, "\\" + c)
    return text


def option_rows(group: str) -> list[tuple[str, str, str]]:
    """(option, what it is, what it sets) for each file of a group."""
    rows = []
    for p in options(group):
        data = yaml.safe_load(p.read_text()) or {}
        if group == "experiment":
            pub = data.get("published") or {}
            what = pub.get("source") or header(p)
            if pub.get("l2") is not None:
                what += f"; published l2/{pub.get('field')} {pub['l2']:g}"
            elif pub.get("claim"):
                what += f"; {pub['claim']}"
            defaults = data.get("defaults", [])
            choices = [d for d in defaults if isinstance(d, dict)]
            sets = ", ".join(f"`{k.replace('override /', '')}={v}`" for d in choices for k, v in d.items())
            extends = [d for d in defaults if isinstance(d, str) and d != "_self_"]
            if extends:
                sets = ", ".join([f"extends `{d}`" for d in extends] + ([sets] if sets else []))
            rows.append((p.stem, what, sets))
        elif group == "equation":
            variables = ", ".join(k for k in (data.get("domain") or {}) if k != "geometry")
            geometry = " on a geometry" if "geometry" in (data.get("domain") or {}) else ""
            rows.append((p.stem, header(p), f"variables {variables or '-'}{geometry}; name `{data.get('name')}`"))
        else:
            rows.append((p.stem, header(p), _sets(p)))
    return rows


def _choices() -> dict[str, str]:
    text = (CONF / "config.yaml").read_text()
    found = {}
    for item in yaml.safe_load(text)["defaults"]:
        if isinstance(item, dict):
            for k, v in item.items():
                if not k.startswith("override"):
                    found[k] = v
    return found


def config_reference() -> str:
    """The configuration reference page (Markdown)."""
    sections = schema_rows()
    chosen = _choices()
    out = [
        "# Configuration reference",
        "",
        "<!-- generated at build time by docs/hooks/pinnrun_docs.py from pinnrun/config.py and conf/ -->",
        "",
        "Generated from the config schema (`pinnrun/config.py`) and the config folders (`conf/`) at",
        "every build of this site. Pick an option of a group with `group=option`; set a key with",
        "`group.key=value`; add a key to a dict with `+group.key=value`. `pinnrun --cfg job` prints",
        "the composed config of a command line.",
        "",
        "- **Default**: the value in the config `pinnrun` runs with no arguments (the default option",
        "  of each group, then the schema's defaults for the keys the option leaves alone).",
        "- **Type**: what Hydra checks while it composes; `pinnrun` then checks what a type cannot",
        "  say (bounds, counts, names) and refuses bad input in one line.",
        "",
        "| group | default option | options |",
        "| --- | --- | --- |",
    ]
    for group in (*SCHEMA_GROUPS, *OPTION_GROUPS):
        names = [p.stem for p in options(group)]
        if group == "hydra/launcher":
            names = ["basic", "submitit_local", "submitit_slurm", *names]
        default = chosen.get(group, "basic" if group == "hydra/launcher" else "none")
        anchor = group.replace("/", "")
        out.append(f"| [`{group}`](#{anchor}) | `{default}` | {len(names)} |")
    out += ["", "## Top-level keys", "", *_key_table(sections[""])]
    for group in SCHEMA_GROUPS:
        out += ["", f"## {group}", "", f"Options (`{group}=<option>`, files in `conf/{group}/`):", ""]
        out += _option_table(group)
        out += ["", f"Keys (`{group}.<key>=<value>`):", "", *_key_table(sections[group])]
    out += [
        "",
        "## experiment",
        "",
        "A preset (`experiment=<name>`, `conf/experiment/`) sets up one paper's experiment: it picks",
        "options of the groups above and sets keys, and its `published` keys hold the paper's number.",
        "[Presets](../PRESETS.md) compares every setting with the paper; the [gallery](../gallery.md)",
        "runs each at a small budget.",
        "",
        "| preset | source and published result | picks |",
        "| --- | --- | --- |",
        *(
            f"| `{o}` | {_cell(_esc_keep_code(w)) or '-'} | {_cell(s) or '-'} |"
            for o, w, s in option_rows("experiment")
        ),
        "",
        "## search",
        "",
        "A hyper-parameter search with Hydra's Optuna sweeper (`pinnrun -m search=<name> ...`; the",
        "`sweeps` extra).",
        "",
        "| option | what it is |",
        "| --- | --- |",
        *(f"| `{o}` | {_cell(_esc_keep_code(w))} |" for o, w, _ in option_rows("search")),
        "",
        "## hydra/launcher",
        "",
        "How a sweep's jobs run (`pinnrun -m hydra/launcher=<name> ...`). `basic` is Hydra's own (one",
        "job after another); `submitit_local` and `submitit_slurm` come with Hydra's submitit launcher;",
        "the others are pinnrun's files in `conf/hydra/launcher/`. All but `basic` need the `sweeps`",
        "extra.",
        "",
        "| option | what it is |",
        "| --- | --- |",
        "| `basic` | Hydra's default: the jobs one after another in this process |",
        "| `submitit_local` | Hydra's submitit launcher, jobs as local processes |",
        "| `submitit_slurm` | Hydra's submitit launcher on SLURM, its own defaults |",
        *(f"| `{o}` | {_cell(_esc_keep_code(w))} |" for o, w, _ in option_rows("hydra/launcher")),
    ]
    return "\n".join(out) + "\n"


def _key_table(rows) -> list[str]:
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for key, tp, default, meaning in rows:
        lines.append(f"| `{key}` | {_cell(tp)} | {_cell(default)} | {_cell(_esc_keep_code(meaning)) or '-'} |")
    return lines


def _option_table(group: str) -> list[str]:
    lines = ["| option | what it is | sets |", "| --- | --- | --- |"]
    for o, what, sets in option_rows(group):
        lines.append(f"| `{o}` | {_cell(_esc_keep_code(what)) or '-'} | {_cell(sets)} |")
    return lines


def _esc_keep_code(text: str) -> str:
    """Like _esc outside `code` spans, which stay as they are."""
    parts = re.split(r"(`[^`]*`)", text.replace("``", "`"))
    return "".join(p if p.startswith("`") and p.endswith("`") and len(p) > 1 else _esc(p) for p in parts)


# -- the changelog and links out of docs/ ------------------------------------------------------


def changelog() -> str:
    return (ROOT / "CHANGELOG.md").read_text()


LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)\)")


def rewrite_links(markdown: str, src_uri: str, docs_dir: Path) -> str:
    """Links to files outside docs/ pointed at the site's pages. ``src_uri``: the page's path
    under docs/; the changelog's links are taken as written from the repository's top."""
    here = (ROOT if src_uri == "changelog.md" else (docs_dir / src_uri).parent).resolve()
    page_dir = (docs_dir / src_uri).parent.resolve()

    def fix(m: re.Match) -> str:
        text, target = m.group(1), m.group(2)
        if re.match(r"^[a-z]+:|^#|^/", target):
            return m.group(0)
        path, _, anchor = target.partition("#")
        resolved = (here / path).resolve()
        if resolved.is_relative_to(docs_dir.resolve()):
            new = resolved.relative_to(docs_dir.resolve())
        elif resolved.is_relative_to(ROOT) and str(resolved.relative_to(ROOT)) in OUTSIDE:
            new = Path(OUTSIDE[str(resolved.relative_to(ROOT))])
        else:
            return m.group(0)
        rel = Path(_relpath(docs_dir.resolve() / new, page_dir))
        return f"{text}({rel.as_posix()}{'#' + anchor if anchor else ''})"

    return LINK.sub(fix, markdown)


def _relpath(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target, start)


# -- MkDocs events -----------------------------------------------------------------------------


def on_files(files, config):
    from mkdocs.structure.files import File

    for uri, maker in GENERATED.items():
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, content=globals()[maker]()))
    return files


def on_page_markdown(markdown, page, config, files):
    return rewrite_links(markdown, page.file.src_uri, Path(config["docs_dir"]))


#: a Sphinx role as it reaches the page from a docstring: :meth:`~pinnrun.x.y` -> <code>y</code>
ROLE = re.compile(r":(?:func|meth|class|attr|mod|data|exc|obj|py:\w+):<code>(~?)([^<]*)</code>")


def roles_to_code(html: str) -> str:
    """The docstrings' Sphinx roles shown as code (``~`` keeps the last name only, as Sphinx does)."""
    return ROLE.sub(lambda m: f"<code>{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}</code>", html)


def on_page_content(html, page, config, files):
    return roles_to_code(html)
