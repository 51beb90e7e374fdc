"""``powercis dlt645 decode`` / ``encode-read``: JSON out, exit status 2 with a reason for bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

T5 = "68 01 00 00 00 00 00 68 91 08 33 33 34 33 AB 89 67 45 17 16"
T8 = "68 02 00 00 00 10 20 68 91 18 33 32 34 33 67 5C 33 33 99 3A 33 33 48 39 33 33 B3 37 33 33 A4 43 33 33 5D 16"
BAD_CS = "68 37 03 00 92 81 39 68 91 06 33 34 34 35 C7 56 B6 16"  # §5.3 negative vector, correct CS = DA


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("dlt645", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> CommandError:
    with pytest.raises(CommandError) as error:
        run(*args)
    assert error.value.returncode == 2
    return error.value


def test_decode_accepts_split_hex_and_prints_json():
    frame = json.loads(run("decode", *T5.split()))
    assert (frame["address"], frame["di"], frame["name"]) == ("000000000001", "00010000", "正向有功总电能")
    assert frame["control"] == {"code": "91", "direction": "reply", "abnormal": False, "follow": False,
                                "function": "read_data"}
    assert frame["values"] == [{"name": "正向有功总电能", "name_en": "forward active energy, total",
                                "register": "total", "value": "123456.78", "unit": "kWh"}]


def test_decode_accepts_one_quoted_string_with_preamble():
    frame = json.loads(run("decode", "FE FE FE FE " + T8))
    assert [(v["register"], v["value"]) for v in frame["values"]] == [
        ("total", "29.34"), ("sharp", "7.66"), ("peak", "6.15"), ("flat", "4.80"), ("valley", "10.71")]


def test_decode_prints_chinese_unescaped():
    assert "正向有功总电能" in run("decode", T5)


def test_decode_error_reply():
    frame = json.loads(run("decode", "68 01 00 00 00 00 00 68 D1 01 36 D9 16"))
    assert frame["error"] == {"code": "03", "flags": ["other", "no_data"]}
    assert frame["control"]["abnormal"] is True


@pytest.mark.parametrize("args, code, detail", [
    (("decode", BAD_CS), "bad_checksum", "DA"),
    (("decode", "68 01 00"), "too_short", ""),
    (("decode", "xyz"), "bad_hex", "xyz"),
    (("decode", "68 01 00 00 00 00 00 68 91 05 32 32 32 32 33 62 16"), "unknown_di", "FFFFFFFF"),
    (("encode-read", "12345", "00010000"), "bad_address", "12345"),
    (("encode-read", "000000000001", "0001"), "bad_di", "0001"),
])
def test_bad_input_exits_2_with_the_reason(args, code, detail):
    error = refused(*args)
    assert code in str(error) and detail in str(error)


def test_unknown_di_can_be_shown_raw():
    frame = json.loads(run("decode", "--allow-unknown-di", "68 01 00 00 00 00 00 68 91 05 32 32 32 32 33 62 16"))
    assert (frame["di"], frame["values"], frame["data"]) == ("FFFFFFFF", [], "FF FF FF FF 00")


def test_encode_read_prints_the_request_with_and_without_preamble():
    assert run("encode-read", "000000000001", "00010000").strip() == (
        "FE FE FE FE 68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 16")
    assert run("encode-read", "123456789012", "02010100", "--no-preamble").strip() == (
        "68 12 90 78 56 34 12 68 11 04 33 34 34 35 6B 16")


# --------------------------------------------------------------------------- the installed console script


def powercis(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the ``powercis`` console script next to this interpreter, as an operator would."""
    script = Path(sys.executable).with_name("powercis")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "powercis.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERCIS_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(POWERCIS_VAR_DIR=str(tmp_path / "var"),
               POWERCIS_DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'powercis.sqlite3'}")
    return subprocess.run([*command, "dlt645", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def test_console_script_decodes_and_refuses(tmp_path):
    done = powercis(tmp_path, "decode", *T5.split())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["values"][0]["value"] == "123456.78"

    bad = powercis(tmp_path, "decode", BAD_CS)
    assert bad.returncode == 2
    assert bad.stdout == "" and "bad_checksum" in bad.stderr and "DA" in bad.stderr

    request = powercis(tmp_path, "encode-read", "000000000001", "00010000", "--no-preamble")
    assert (request.returncode, request.stdout.strip()) == (0, "68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 16")

    address = powercis(tmp_path, "encode-read", "00000000001", "00010000")
    assert address.returncode == 2 and "bad_address" in address.stderr
