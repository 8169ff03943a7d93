"""Docs tested against code: the README's two commands, CI, and every command's help."""

import re

import click
import pytest

from conftest import ROOT
from pipeline.cli import cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_quick_start_has_exactly_two_commands():
    cmds = quick_start_commands()
    assert len(cmds) == 2
    assert cmds[0] == "pip install uv && uv run qda run"
    assert cmds[1] == "uv run pytest"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_cmd = quick_start_commands()[1]
    assert test_cmd in [line.strip() for line in ci.splitlines()]


def _commands(group: click.Group, prefix=("qda",)):
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path)
        else:
            yield " ".join(path), cmd


COMMANDS = sorted(_commands(cli))


@pytest.mark.parametrize("name,cmd", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_documented_with_an_example(name, cmd):
    assert f"`{name}" in README, f"{name} is not in the README"
    assert "Example" in (cmd.help or ""), f"{name} --help has no example"


def test_readme_has_no_unfilled_placeholders():
    prose = re.sub(r"```.*?```|`[^`]*`", "", README, flags=re.S)  # code may hold NAME_OR_PATH and such
    assert not re.search(r"\b[A-Z]{4,}_[A-Z_]{3,}\b", prose), "a placeholder is left in the README"


def test_readme_counts_the_bad_inputs_the_tables_test():
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from count_bad_inputs import count, readme_count

    assert readme_count(README) == count()[0], "run: uv run python scripts/count_bad_inputs.py"
