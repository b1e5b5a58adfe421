import subprocess
import sys


def test_piped_tables_are_not_squeezed_into_80_columns():
    # A subprocess whose stdout is a pipe, as in a cluster job log; COLUMNS unset.
    code = "from mi.cli._console import make_console; print(make_console().width)"
    env = {"PATH": "/usr/bin:/bin", "TERM": "dumb"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert int(out.stdout.strip()) >= 160


def test_criticality_cli_piped_shows_full_numbers():
    env = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "MI_OFFLINE": "true"}
    code = "import sys; from mi.cli import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "criticality",
            "--as-of",
            "2026-12-01",
            "Nd2Fe14B",
            "(Nd0.8Dy0.2)2Fe14B",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "0.158" in out.stdout and "5.97" in out.stdout
