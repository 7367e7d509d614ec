import json
import subprocess
import sys

import pytest

from lpgeom.__main__ import main
from lpgeom.cli.options import parse_number


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "lpgeom", "radii", *args], capture_output=True, text=True)


def test_fraction_and_table():
    out = run_cli("--eps1", "12", "--eps-inf", "8/255", "--d", "3072")
    assert out.returncode == 0, out.stderr
    assert "0.613773" in out.stdout and "0.218242" in out.stdout and "FAILED" not in out.stdout


def test_preset_imagenet_compares_to_paper_l2_radius(capsys):
    assert main(["radii", "--preset", "imagenet", "--p", "2"]) == 0
    out = capsys.readouterr().out
    assert "2.000012" in out and "is inside the hull" in out


def test_json_output(capsys):
    assert main(["radii", "--preset", "cifar10", "--p", "1", "inf", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["p"] for row in data] == [1.0, "inf"] and all(row["passed"] for row in data)  # JSON has no Infinity


@pytest.mark.parametrize("text, value", [("8/255", 8 / 255), ("0.5", 0.5), ("12", 12.0), ("inf", float("inf"))])
def test_parse_number(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("args, message", [
    (["--eps1", "12", "--eps-inf", "8/0", "--d", "3072"], "not a number or fraction"),
    (["--eps1", "100", "--eps-inf", "8/255", "--d", "3072"], "contained in B_1"),
    (["--eps1", "12", "--d", "3072"], "missing --eps-inf"),
    (["--preset", "cifar10", "--p", "0.5"], "p must be >= 1"),
])
def test_bad_input_exits_2_with_a_clear_message(args, message):
    out = run_cli(*args)
    assert out.returncode == 2
    assert message in out.stderr


def test_help_explains_options():
    out = run_cli("--help")
    for flag in ("--eps1", "--eps-inf", "--d", "--p", "--preset", "--json", "8/255"):
        assert flag in out.stdout


@pytest.mark.parametrize("d, message", [
    (str(10**400), r"the dimension d must be at most 2\*\*63 - 1 .*an integer of 401 digits"),  # was: OverflowError
    (str(2**63), r"the dimension d must be at most 2\*\*63 - 1"),
    (str(10**7), "too large for the numerical check"),
])
def test_huge_dimension_exits_2_with_one_line(d, message, capsys):
    import re

    assert main(["radii", "--eps1", "12", "--eps-inf", "8/255", "--d", d, "--p", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err


@pytest.mark.parametrize("eps1, eps_inf, shown", [("1e308", "1e307", "2.294157e+307"), ("1e-300", "1e-301", "2.294157e-301")])
def test_radii_of_any_size_print_readably(eps1, eps_inf, shown, capsys):
    """Was: 309-digit numbers (1e308) or 0.000000 (1e-300) in the table."""
    assert main(["radii", "--eps1", eps1, "--eps-inf", eps_inf, "--d", "20", "--p", "2"]) == 0
    row = capsys.readouterr().out.splitlines()[-1]
    assert shown in row and len(row) < 100, row


def test_json_output_is_strict_json(capsys):
    """Was: "p": Infinity, which JSON.parse and strict parsers refuse."""
    assert main(["radii", "--eps1", "1.5", "--eps-inf", "1", "--d", "3", "--p", "inf", "--json"]) == 0
    text = capsys.readouterr().out
    data = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}"))
    assert data[0]["p"] == "inf" and "Infinity" not in text
