import os

import pytest

from powercis.cli import COMMANDS, main, prepare_environment


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"], ["help"]])
def test_help_lists_our_commands_with_descriptions(argv, capsys):
    main(argv)
    out = capsys.readouterr().out
    for name, description in COMMANDS:
        assert f"  {name}" in out
        assert description in out
    assert "sqlflush" not in out  # not Django's full list


@pytest.mark.parametrize("command", [["demo"], ["serve"], ["migrate"], ["createadmin"], ["audit"], ["audit", "verify"]])
def test_every_command_has_help(command, run_cli):
    done = run_cli(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert f"usage: powercis {' '.join(command)}" in done.stdout


def test_demo_switches_tls_off_unless_the_operator_set_it(monkeypatch):
    monkeypatch.setenv("POWERCIS_TLS", "")
    monkeypatch.delenv("POWERCIS_TLS")
    prepare_environment("serve")
    assert "POWERCIS_TLS" not in os.environ
    prepare_environment("demo")
    assert os.environ["POWERCIS_TLS"] == "0"
    monkeypatch.setenv("POWERCIS_TLS", "1")
    prepare_environment("demo")
    assert os.environ["POWERCIS_TLS"] == "1"
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "powercis.settings"
