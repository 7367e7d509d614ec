"""Per-point flags: packing round-trips, the reader refuses damage, the records' conversion lost no bit."""
import importlib.util
import json
import pathlib
import subprocess

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lpgeom.utils import pack_flags, unpack_flags
from lpgeom.utils.flags import is_packed, pack_flag_array, unpack_flag_array

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "pack_per_point_records.py"


def _script():
    spec = importlib.util.spec_from_file_location("pack_per_point_records", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), max_size=70))
def test_pack_then_unpack_gives_the_same_flags(bits):
    flags = {"clean": torch.tensor(bits, dtype=torch.bool), "union": [int(b) for b in bits]}
    packed = json.loads(json.dumps(pack_flags(flags)))   # through JSON, as records are
    back = unpack_flags(packed)
    assert list(back) == ["clean", "union"] and is_packed(packed)
    for key in flags:
        assert back[key].dtype == torch.bool and back[key].tolist() == bits
    assert unpack_flags({"old": [int(b) for b in bits]})["old"].tolist() == bits  # the old list form reads too


def test_packed_form_is_small_and_readable():
    bits = np.zeros(1000, dtype=bool)
    bits[[0, 7, 8, 999]] = True
    entry = pack_flag_array(bits)
    assert entry["n"] == 1000 and len(entry["packbits"]) == 168   # 125 bytes in base64
    assert np.array_equal(np.packbits(bits), np.frombuffer(__import__("base64").b64decode(entry["packbits"]), np.uint8))


@pytest.mark.parametrize("stored, error, match", [
    ({"n": 9, "packbits": "AA=="}, ValueError, "cannot hold n=9"),
    ({"n": 3, "packbits": "/w=="}, ValueError, "padding bits"),
    ({"n": 8, "packbits": "not base64!"}, ValueError, "not valid base64"),
    ({"n": -1, "packbits": ""}, ValueError, "non-negative"),
    ({"n": 8}, ValueError, "exactly the keys"),
    ([0, 1, 2], ValueError, "0 or 1"),
    ([0, True], TypeError, "only the integers 0 and 1"),
    ([0.0, 1.0], TypeError, "only the integers"),
    ("0101", TypeError, "packed entry or a list"),
])
def test_damaged_entries_are_refused(stored, error, match):
    with pytest.raises(error, match=match):
        unpack_flag_array(stored, name="Linf")


def test_packing_refuses_what_is_not_flags():
    with pytest.raises(ValueError, match=r"per_point\['Linf'\].*0 or 1"):
        pack_flags({"Linf": [0, 1, 3]})
    with pytest.raises(ValueError, match="one-dimensional"):
        pack_flags({"Linf": torch.ones(2, 2, dtype=torch.bool)})
    with pytest.raises(TypeError, match="booleans or the integers"):
        pack_flags({"Linf": torch.tensor([0.0, 1.0])})
    with pytest.raises(TypeError, match="mapping"):
        pack_flags([True, False])


def test_conversion_keeps_everything_but_the_flags_byte_for_byte(tmp_path):
    script = _script()
    record = {"name": "x", "report": {"union_accuracy": 0.5, "per_point": {"clean": [1, 0, 1], "union": [0, 0, 1]},
                                      "note": "é"}, "history": [{"loss": 0.1}]}
    text = json.dumps(record, indent=1) + "\n"
    new = script.convert_text(text)
    back = json.loads(new)
    assert unpack_flags(back["report"]["per_point"])["clean"].tolist() == [True, False, True]
    back["report"]["per_point"] = record["report"]["per_point"]
    assert back == record and new.endswith("}\n") and '\\u00e9' in new and new.startswith('{\n "name"')
    assert script.convert_text(new) is None                     # idempotent
    with pytest.raises(ValueError, match="refusing"):
        script.convert_text('{"a":  1}')                         # a layout it would not reproduce
    path = tmp_path / "r.json"
    path.write_text(text)
    assert script.main([str(path)]) == 0 and path.read_text() == new


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def _conversion_commit() -> str | None:
    try:
        found = _git("log", "--format=%H", "--fixed-strings", f"--grep={_script().COMMIT_SUBJECT}", "-1")
    except (OSError, subprocess.CalledProcessError):
        return None
    return found.strip() or None


def test_committed_records_are_all_packed():
    records = [p for p in (ROOT / "data").rglob("*.json")]
    with_flags = 0
    for path in records:
        text = path.read_text()
        if '"per_point"' in text:
            assert _script().convert_text(text) is None, f"{path.relative_to(ROOT)} still stores unpacked flags"
            with_flags += 1
    assert with_flags >= 100, "the recorded study's per-point records are missing"


@pytest.mark.slow
def test_conversion_commit_changed_no_bit_of_any_record():
    """Every record the conversion commit touched: before (its parent) == after, every flag and every other field."""
    commit = _conversion_commit()
    if commit is None:
        pytest.skip("not a git checkout with the history of the conversion (a shallow clone or a package)")
    changed = [p for p in _git("diff-tree", "--no-commit-id", "-r", "--name-only", commit).split() if p.endswith(".json")]
    assert len(changed) >= 100, f"the conversion commit {commit[:10]} changed only {len(changed)} records"
    for path in changed:
        before, after = json.loads(_git("show", f"{commit}^:{path}")), json.loads(_git("show", f"{commit}:{path}"))

        def compare(old, new, where):
            if isinstance(old, dict):
                assert isinstance(new, dict) and list(old) == list(new), f"{path}: keys of {where} changed"
                for key in old:
                    if key == "per_point":
                        unpacked = unpack_flags(new[key])
                        assert is_packed(new[key]) and list(unpacked) == list(old[key]), f"{path}: {where}.per_point"
                        for name, bits in old[key].items():
                            assert unpacked[name].int().tolist() == bits, f"{path}: {where}.per_point[{name}] changed"
                    else:
                        compare(old[key], new[key], f"{where}.{key}")
            elif isinstance(old, list):
                assert isinstance(new, list) and len(old) == len(new), f"{path}: {where} changed"
                for i, (a, b) in enumerate(zip(old, new)):
                    compare(a, b, f"{where}[{i}]")
            else:
                assert type(old) is type(new) and old == new, f"{path}: {where} changed"

        compare(before, after, "record")
