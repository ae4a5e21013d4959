"""`zorgsleutel uzi inspect`: fields as JSON, the verdict, and exit codes 0 / 1 / 2."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

FIXTURES = Path(__file__).parent / "fixtures"
CARD = FIXTURES / "uzi-test-card"
TRUST = FIXTURES / "uzi-test-trust"


def inspect(*args) -> tuple[int, dict | None, str]:
    """(exit code, JSON report or None, error line) of call_command."""
    out = io.StringIO()
    try:
        call_command("uzi", "inspect", *map(str, args), stdout=out)
    except CommandError as exc:
        code, error = exc.returncode, str(exc)
    else:
        code, error = 0, ""
    return code, (json.loads(out.getvalue()) if out.getvalue() else None), error


def test_real_card_is_valid_in_2019():
    code, report, _ = inspect(CARD / "Authenticiteit.cer", "--trust", TRUST, "--at", "2019-06-01")
    assert code == 0
    assert report["identity"]["uzi_number"] == "900016528"
    assert report["identity"]["ura"] == "90000382"
    assert report["identity"]["profession"] == "Arts"
    assert report["certificate"]["policies"] == ["2.16.528.1.1007.99.211"]
    assert report["verdict"]["ok"] is True
    assert report["verdict"]["code"] == "valid"
    assert report["verdict"]["chain"][-1] == "CN=TEST Zorg CSP Root CA G3,O=CIBG,C=NL"


def test_real_card_is_expired_now():
    code, report, error = inspect(CARD / "Authenticiteit.cer", "--trust", TRUST)
    assert code == 1
    assert report["verdict"] == {
        **report["verdict"],
        "ok": False,
        "code": "expired",
    }
    assert "2020-07-12" in report["verdict"]["reason"]
    assert error.startswith("refused: expired")


def test_signing_certificate_is_refused():
    code, report, _ = inspect(CARD / "Handtekening.cer", "--trust", TRUST, "--at", "2019-06-01")
    assert (code, report["verdict"]["code"]) == (1, "key_usage")


def test_untrusted_without_the_trust_dir(tmp_path):
    code, report, _ = inspect(
        CARD / "Authenticiteit.cer", "--trust", tmp_path, "--at", "2019-06-01"
    )
    assert (code, report["verdict"]["code"]) == (1, "untrusted")


def test_default_trust_dir_is_the_setting(settings):
    settings.UZI_TRUST_DIR = TRUST
    code, report, _ = inspect(CARD / "Authenticiteit.cer", "--at", "2019-06-01T12:00:00+02:00")
    assert code == 0
    assert report["verdict"]["trust_dir"] == str(TRUST)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "malformed"),
        (os.urandom(256), "malformed"),
        ((TRUST / "UZI-Test_Zorg_CSP_CA_G3.cer").read_bytes(), "not_uzi"),
    ],
)
def test_unusable_input_is_one_line_and_exit_2(tmp_path, content, expected):
    path = tmp_path / "input.cer"
    path.write_bytes(content)
    code, report, error = inspect(path)
    assert (code, report) == (2, None)
    assert f": {expected}: " in error and "\n" not in error


def test_missing_file_and_bad_time(tmp_path):
    code, _, error = inspect(tmp_path / "nope.pem")
    assert code == 2 and "cannot read" in error
    code, _, error = inspect(CARD / "Authenticiteit.cer", "--at", "yesterday")
    assert code == 2 and "ISO 8601" in error


def test_command_line_exit_codes_and_no_traceback(tmp_path):
    """The real `zorgsleutel uzi inspect` as an operator runs it."""
    junk = tmp_path / "junk.bin"
    junk.write_bytes(os.urandom(100))
    zorgsleutel = [sys.executable, "-m", "zorgsleutel.cli", "uzi", "inspect"]
    env = {**os.environ, "DEBUG": "1"}
    runs = {
        "valid": [str(CARD / "Authenticiteit.cer"), "--trust", str(TRUST), "--at", "2019-06-01"],
        "expired": [str(CARD / "Authenticiteit.cer"), "--trust", str(TRUST)],
        "junk": [str(junk)],
    }
    started = {
        name: subprocess.Popen(
            [*zorgsleutel, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name, args in runs.items()
    }
    results = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=60)
        results[name] = subprocess.CompletedProcess(
            process.args, process.returncode, stdout, stderr
        )
    assert [results[n].returncode for n in runs] == [0, 1, 2]
    assert json.loads(results["valid"].stdout)["verdict"]["ok"] is True
    for result in results.values():
        assert "Traceback" not in result.stderr
    assert results["junk"].stderr.strip().count("\n") == 0
    assert "malformed" in results["junk"].stderr
