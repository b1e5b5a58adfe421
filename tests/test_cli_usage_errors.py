"""A command-line usage error prints one red line and exits 2; `--debug` keeps the traceback."""

import os
import subprocess
import sys

import pytest

from mi.cli import main

USAGE_ERRORS = {
    "missing option": (["features", "run", "x.csv"], "Missing option '--out'"),
    "missing argument": (["run"], "Missing argument 'workflow'"),
    "option without value": (["demo", "--out"], "Option '--out' requires an argument"),
    "unknown command": (["bogus"], "No such command 'bogus'"),
    "unknown subcommand": (["campaign", "bogus"], "No such command 'bogus'"),
    "unknown option": (["run", "wf.toml", "--bogus"], "No such option: --bogus"),
    "bad integer": (["campaign", "suggest", "camp", "-n", "eight"], "Invalid value for '-n'"),
    "missing argument of a subcommand": (["datasets", "show"], "Missing argument 'name'"),
    "value given to a flag": (["demo", "--quick=yes"], "Option '--quick' does not take a value"),
}


@pytest.mark.parametrize("case", sorted(USAGE_ERRORS))
def test_usage_error_is_one_line_exit_2(case, capsys):
    args, expected = USAGE_ERRORS[case]
    assert main(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("Error: ") and expected in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_usage_error_names_the_help_of_the_command(capsys):
    assert main(["campaign", "suggest", "camp", "-n", "eight"]) == 2
    assert "Try 'mi campaign suggest --help'." in capsys.readouterr().err


def test_debug_keeps_the_traceback():
    with pytest.raises(Exception, match="No such command 'bogus'") as info:
        main(["--debug", "bogus"])
    assert type(info.value).__name__ == "UsageError"


def test_console_script_prints_no_traceback():
    # The real entry point in a fresh interpreter, stderr a pipe as in a job log.
    env = {**os.environ, "TERM": "dumb"}
    code = "import sys; from mi.cli import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run(
        [sys.executable, "-c", code, "run", "--bogus"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "No such option: --bogus" in lines[0], out.stderr


@pytest.mark.parametrize("args", [[], ["campaign"]])
def test_command_alone_shows_its_help_and_no_error_line(args, capsys):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert "Usage: mi" in captured.out and "Commands" in captured.out
    assert "Error" not in captured.err


@pytest.mark.parametrize("module", ["click.exceptions", "typer._click.exceptions"])
def test_either_click_gives_one_line(module, monkeypatch, capsys):
    # whichever Click a Typer release raises (its own bundled copy, or the click package)
    exceptions = pytest.importorskip(module)

    def fake_app(**kwargs):
        raise exceptions.UsageError("No such option: --frobnicate")

    monkeypatch.setattr("mi.cli.app", fake_app)
    assert main(["run", "--frobnicate"]) == 2
    assert capsys.readouterr().err.strip() == "Error: No such option: --frobnicate"
