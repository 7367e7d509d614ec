import pytest

from lpgeom.profiles import PROFILES, active_profile


def test_default_is_smoke(monkeypatch):
    monkeypatch.delenv("LPGEOM_PROFILE", raising=False)
    assert active_profile() == "smoke"


@pytest.mark.parametrize("name", PROFILES)
def test_environment_variable_selects_profile(monkeypatch, name):
    monkeypatch.setenv("LPGEOM_PROFILE", f"  {name.upper()} ")
    assert active_profile() == name


def test_override_wins(monkeypatch):
    monkeypatch.setenv("LPGEOM_PROFILE", "cpu")
    assert active_profile("full") == "full"


def test_unknown_profile_names_source(monkeypatch):
    monkeypatch.setenv("LPGEOM_PROFILE", "huge")
    with pytest.raises(ValueError, match="unknown profile 'huge'.*LPGEOM_PROFILE"):
        active_profile()
    with pytest.raises(ValueError, match="from the argument"):
        active_profile("tiny")
