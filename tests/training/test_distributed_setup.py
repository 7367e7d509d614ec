"""Joining a DDP process group: the collective timeout (no process group is started)."""
import pytest


@pytest.mark.parametrize("raw, minutes", [(None, 60.0), ("", 60.0), ("90", 90.0), (" 2.5 ", 2.5)])
def test_collective_timeout_reads_the_environment(monkeypatch, raw, minutes):
    import datetime

    from lpgeom.training.distributed import TIMEOUT_ENV, collective_timeout

    if raw is None:
        monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    else:
        monkeypatch.setenv(TIMEOUT_ENV, raw)
    assert collective_timeout() == datetime.timedelta(minutes=minutes)


@pytest.mark.parametrize("raw", ["0", "-5", "nan", "inf", "ten"])
def test_collective_timeout_refuses_what_is_no_duration(monkeypatch, raw):
    from lpgeom.training.distributed import TIMEOUT_ENV, collective_timeout

    monkeypatch.setenv(TIMEOUT_ENV, raw)
    with pytest.raises(ValueError, match=rf"LPGEOM_DIST_TIMEOUT_MIN='{raw}': give a positive number of minutes"):
        collective_timeout()


def test_the_process_group_is_joined_with_the_timeout(monkeypatch):
    """torchrun's WORLD_SIZE > 1: the group gets the explicit timeout (NCCL's 10-minute default would end long rank-0 phases)."""
    import datetime

    import torch.distributed as dist

    from lpgeom.training.distributed import init_distributed

    joined = {}
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("LPGEOM_DIST_TIMEOUT_MIN", "45")
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda **kwargs: joined.update(kwargs))
    monkeypatch.setattr(dist, "get_rank", lambda: 1)
    monkeypatch.setattr(dist, "get_world_size", lambda: 2)
    info = init_distributed("cpu")
    assert joined == {"backend": "gloo", "timeout": datetime.timedelta(minutes=45)}
    assert (info.rank, info.world_size, info.local_rank) == (1, 2, 1)
    monkeypatch.setenv("LPGEOM_DIST_TIMEOUT_MIN", "0")
    joined.clear()
    with pytest.raises(ValueError, match="positive number of minutes"):
        init_distributed("cpu")
    assert joined == {}, "refused before joining"
