"""The user documentation runs: every console example and every complete scheme snippet.

Console examples are lines starting with ``$ buddymatch `` inside ```console blocks
(``buddymatch serve`` and the ``curl`` examples of the HTTP API run against a live
server in ``tests/web/test_docs_web.py``);
each docs page runs its examples in order in a fresh copy of ``sample_data/``,
``constraints/`` and ``examples/`` (so a page may ``match`` first and ``explain`` the
result after).
A trailing ``# exit N`` marks a deliberate error example and is asserted.  A fenced
block right after ``<!-- file: PATH -->`` is written to PATH before the examples run
(a page can show a scheme file and then use it).  A fenced block right after
``<!-- output: PATH -->`` is real output: once the page's examples have run, every
line of it (but "...") must be found in the file PATH they wrote, so quoted
explanations and reasons cannot drift from what buddymatch prints.
"""

from __future__ import annotations

import doctest
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from buddymatch.cli import cli
from buddymatch.config import validate_scheme
from buddymatch.structured import load_toml, load_yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]  # the README tour too
_EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")
_FILE = re.compile(r"<!--\s*(file|output):\s*(\S+)\s*-->")


@dataclass
class Block:
    lang: str
    lines: list[str]
    file: str | None = None  # set when preceded by <!-- file: PATH -->
    output: str | None = None  # set when preceded by <!-- output: PATH -->


@dataclass
class Page:
    blocks: list[Block] = field(default_factory=list)


def parse(path: Path) -> Page:
    """Fenced blocks of a Markdown page, in order, with their file markers."""
    page = Page()
    pending: tuple[str, str] | None = None
    current: Block | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if current is not None:
            if line.startswith("```"):
                page.blocks.append(current)
                current = None
            else:
                current.lines.append(line)
            continue
        if line.startswith("```"):
            kind, target = pending or ("", None)
            current = Block(
                line[3:].strip(), [], *((target, None) if kind == "file" else (None, target))
            )
            pending = None
            continue
        marker = _FILE.search(line)
        if marker:
            pending = (marker.group(1), marker.group(2))
        elif line.strip():
            pending = None
    assert current is None, f"{path.name}: unclosed code block"
    return page


def commands(page: Page) -> list[tuple[str, int, list[str]]]:
    """Every console example: (command without `$ `, expected exit code, shown output).

    The shown output is the lines after the command up to the next one, without
    the "..." lines that mark an abridged output.
    """
    out: list[tuple[str, int, list[str]]] = []
    for block in page.blocks:
        if block.lang != "console":
            continue
        for line in block.lines:
            if line.startswith("$ buddymatch "):
                m = _EXIT.search(line)
                out.append((line[2:], int(m.group(1)) if m else 0, []))
            elif out and line.strip() not in ("", "...") and not line.startswith("$"):
                out[-1][2].append(line.rstrip())
    return out


def test_parser_finds_examples_and_exit_markers() -> None:
    page = parse(DOCS / "scheme-reference.md")
    cmds = commands(page)
    assert cmds and all(code in (0, 2) for _, code, _ in cmds)
    assert any(code == 2 for _, code, _ in cmds)
    assert any(shown for _, _, shown in cmds)
    assert any(b.file == "constraints/bad.yaml" for b in page.blocks)


@pytest.mark.parametrize("page", [p for p in PAGES if commands(parse(p))], ids=lambda p: p.name)
def test_console_examples_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    for folder in ("sample_data", "constraints", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    parsed = parse(page)
    if any(line.startswith("buddymatch batch") for line, _, _ in commands(parsed)):
        # batches run on the session's LocalCluster (the variable the CLI also reads)
        monkeypatch.setenv("BUDDYMATCH_SCHEDULER", request.getfixturevalue("dask_scheduler"))
    for block in parsed.blocks:
        if block.file is not None:
            target = tmp_path / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(block.lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    for line, expected, shown in commands(parsed):
        args = shlex.split(line, comments=True)[1:]
        if args[0] == "serve":  # a long-running server: tests/web/test_docs_web.py runs it
            continue
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == expected, f"{page.name}: {line}\n{result.output}"
        printed = [x.rstrip() for x in result.output.splitlines()]
        for want in shown:  # the documented output is real output, line for line
            assert want in printed, f"{page.name}: {line}\nmissing: {want}\n{result.output}"
    for block in parsed.blocks:
        if block.output is not None:  # quoted file content is real content
            written = (tmp_path / block.output).read_text(encoding="utf-8")
            for want in (x for x in block.lines if x.strip() not in ("", "...")):
                assert want in written, f"{page.name}: not in {block.output}: {want}"


def test_prose_output_markers_are_checked() -> None:
    """The README's sample explanation is one of the checked quotes."""
    blocks = [b for b in parse(ROOT / "README.md").blocks if b.output is not None]
    assert any("closeness" in "\n".join(b.lines) for b in blocks)


def _schemes() -> list[tuple[str, str, str]]:
    """(label, language, text) of every complete scheme snippet in the reference."""
    out = []
    page = parse(DOCS / "scheme-reference.md")
    for k, block in enumerate(page.blocks):
        text = "\n".join(block.lines)
        if block.file is not None:
            continue  # written to disk and used (maybe deliberately wrong) by an example
        if block.lang == "yaml" and text.startswith("version: 1"):
            out.append((f"yaml-{k}", "yaml", text))
        elif block.lang == "toml" and text.startswith("version = 1"):
            out.append((f"toml-{k}", "toml", text))
    return out


def test_reference_has_complete_schemes() -> None:
    langs = {lang for _, lang, _ in _schemes()}
    assert langs == {"yaml", "toml"}


@pytest.mark.parametrize(("label", "lang", "text"), _schemes(), ids=lambda v: str(v)[:12])
def test_reference_schemes_validate(label: str, lang: str, text: str) -> None:
    data = load_yaml(text) if lang == "yaml" else load_toml(text)
    validate_scheme(data, label=label)


def _pycon(page: Path) -> str:
    """Every ```pycon block of a page, in order, as one doctest text."""
    blocks = [b for b in parse(page).blocks if b.lang == "pycon"]
    return "\n\n".join("\n".join(b.lines) for b in blocks)


@pytest.mark.parametrize("page", [p for p in PAGES if _pycon(p)], ids=lambda p: p.name)
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python sessions shown in the docs are real, output included (doctest)."""
    for folder in ("sample_data", "constraints", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    test = doctest.DocTestParser().get_doctest(_pycon(page), {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=flags)
    runner.run(test)
    assert runner.failures == 0, f"{page.name}: {runner.failures} example(s) failed (see output)"
