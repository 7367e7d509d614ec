"""One switch for every progress bar: an argument, set_progress (the CLI's --quiet), $LPGEOM_PROGRESS."""
from __future__ import annotations

import pytest

from lpgeom.utils.progress import progress_bar, progress_enabled, set_progress


@pytest.fixture(autouse=True)
def _reset(monkeypatch):
    monkeypatch.delenv("LPGEOM_PROGRESS", raising=False)
    yield
    set_progress(None)


def test_argument_beats_switch_beats_environment(monkeypatch):
    assert progress_enabled() is True
    monkeypatch.setenv("LPGEOM_PROGRESS", "0")
    assert progress_enabled() is False and progress_enabled(True) is True
    set_progress(True)
    assert progress_enabled() is True
    set_progress(False)
    assert progress_enabled() is False
    with pytest.raises(TypeError, match="progress must be a bool or None"):
        progress_enabled("yes")
    with pytest.raises(TypeError, match="enabled must be a bool or None"):
        set_progress(1)


def test_a_bar_goes_to_stderr_with_an_eta_and_a_silent_one_prints_nothing(capsys):
    with progress_bar(total=3, desc="job", unit="attack", progress=True, leave=True) as bar:
        for _ in range(3):
            bar.update(1)
    out, err = capsys.readouterr()
    assert out == "" and "job" in err and "3/3" in err and "attack" in err
    set_progress(False)
    bar = progress_bar(range(4), total=4, desc="job")
    assert list(bar) == [0, 1, 2, 3]
    bar.update(1)
    bar.set_postfix_str("x")
    bar.close()
    assert capsys.readouterr() == ("", "")
