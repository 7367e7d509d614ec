"""Re-evaluate the ``cpu`` study's Table 1 models with the full standard AutoAttack.

The trained weights are not committed (``runs/`` is ignored), so each model is first
trained again *at the code that recorded it* (a git worktree at the record's commit),
checked against its record (weights digest where recorded, else every recorded training
loss, exactly, and then the clean prediction of every test point), and only then attacked
with ``evaluate_robustness(method="autoattack-standard")`` at a fixed evaluation commit, per
norm on the points the recorded evaluation left robust (a point it broke stays broken: the
full attack only has to look at the others, half the cost on these 2 cores).

Usage (one command, resumable: finished units are skipped, an interrupted training resumes
from its checkpoint)::

    nice -n 10 .venv/bin/python scripts/full_autoattack_check.py run [UNIT ...] [--eval-commit C]

Writes ``data/checks/standard_autoattack/cpu_<unit>.json`` (a verified model's evaluation)
or ``cpu_<unit>.diverged.json`` (a retrained model that does not match its record: not
evaluated). Weights go to ``runs/retrained/`` (not committed). The ``retrain`` and
``evaluate`` subcommands are the two steps ``run`` starts in subprocesses, each with
``PYTHONPATH`` set to its worktree, so edits made in the main checkout meanwhile do not
change the code that runs.

On a lent GPU machine (no network, no Debian data package, none of the study's weights),
revision-2 units are checked in three steps::

    here:    python scripts/full_autoattack_check.py bundle UNIT ... --eval-commit C   # writes gpu_carry/
    device:  python3 scripts/full_autoattack_check.py device-run --seconds 250          # carry: ["gpu_carry"]
    here:    python scripts/full_autoattack_check.py collect <files_at>/full_autoattack.tar.gz

``bundle`` packs the weights, the evaluation commit as a one-commit git checkout (so the
records name that commit, clean) and the study's 1000 test points as tensors;
``device-run`` evaluates every bundled unit at once, one process each, until a deadline, and
packs what finished into ``$OUT/full_autoattack.tar.gz``; ``collect`` files the finished checks (never
over an existing one). The weights are verified on the device exactly as here (digest, then
every clean prediction), before any attack.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECKS = ROOT / "data" / "checks" / "standard_autoattack"
RUNS = ROOT / "runs" / "retrained"
WORKTREES = ROOT.parent  # worktrees live next to the checkout: <parent>/wt-<commit>
BUNDLE = ROOT / "gpu_carry"  # what a device run needs, carried there (ignored by git)
TABLE1_UNITS = ("eat_e5_s0", "linf_e5_s0", "sat_e5_s0", "l1_e5_s0", "l2_e5_s0", "l2-eat_e5_s0", "msd_e5_s0",
                "max_e5_s0", "avg_e5_s0")
HISTORY_KEYS = ("global_step", "epoch", "loss", "clean_err", "p_L1", "p_Linf", "rerr_L1", "rerr_Linf", "norm")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _folder(revision: int) -> str:
    """Where a revision's records, checks and scratch files live below their roots (as the study keeps them)."""
    return "cpu" if revision == 1 else f"cpu/r{revision}"


def _record(unit_name: str, revision: int = 1) -> dict:
    return json.loads((ROOT / "data" / "results" / _folder(revision) / f"{unit_name}.json").read_text())


def _checks(revision: int) -> pathlib.Path:
    return CHECKS if revision == 1 else CHECKS / f"r{revision}"


def _study_weights(unit_name: str, revision: int) -> pathlib.Path:
    """The weights the study itself wrote for a record of code revision >= 2 (kept in its run folder)."""
    return ROOT / "runs" / _folder(revision) / unit_name / "model.pt"


def found(unit_name: str, revision: int) -> int:
    """Use the study's own weights of a revision >= 2 record (no retraining): verified by digest, then clean predictions."""
    record, path = _record(unit_name, revision), _study_weights(unit_name, revision)
    out = {"unit": unit_name, "source": "the study's own run folder (not retrained)", "record_commit":
           record["provenance"]["commit"], "record_dirty": record["provenance"].get("dirty"),
           "weights": str(path.relative_to(ROOT)), "history_matches": None, "first_mismatch": None, "started": _now(),
           "ended": _now(), "load_average_before_after": [_load_average(), _load_average()],
           "command": f"{sys.executable} scripts/full_autoattack_check.py run {unit_name} --revision {revision}"}
    _write(RUNS / _folder(revision) / f"{unit_name}.retrained.json", out)
    return 0


def _write(path: pathlib.Path, obj: dict) -> None:
    # temp file + os.replace by hand: the retrain step runs old commits, which have no lpgeom.utils;
    # the same rule as lpgeom.utils.files: never through a symbolic link (O_NOFOLLOW, a link destination refused)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    for target in (tmp, path):
        if target.is_symlink():
            raise OSError(f"refusing to write {target}: it is a symbolic link (lpgeom never writes through a link)")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def _load_average() -> str:
    try:
        return pathlib.Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


def first_history_mismatch(recorded: list[dict], retrained: list[dict]) -> dict | None:
    """The first logged step where the retrained history differs from the recorded one (None: identical)."""
    for i, (a, b) in enumerate(zip(recorded, retrained)):
        b = {k: b[k] for k in HISTORY_KEYS if k in b}
        if a != b:
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            return {"index": i, "global_step": a.get("global_step"), "fields": keys,
                    "recorded": {k: a.get(k) for k in keys}, "retrained": {k: b.get(k) for k in keys}}
    if len(recorded) != len(retrained):
        return {"index": min(len(recorded), len(retrained)), "fields": ["length"],
                "recorded": len(recorded), "retrained": len(retrained)}
    return None


def retrain(unit_name: str) -> int:
    """Train ``unit_name`` with the lpgeom on PYTHONPATH (the record's commit); compare its history."""
    import torch

    import lpgeom
    import lpgeom.evaluation
    from lpgeom.experiments import study_size
    from lpgeom.experiments.study import Unit, run_unit
    from lpgeom.training import read_metrics

    record = _record(unit_name)
    code = pathlib.Path(lpgeom.__file__).resolve().parents[1]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=code, capture_output=True, text=True).stdout.strip()
    unit = Unit(**record["unit"])
    assert unit.name == unit_name and unit.init is None, "only Table 1 (trained from scratch) units are re-evaluated"
    torch.set_num_threads(record["provenance"]["machine"]["torch_threads"])

    class TrainingDone(Exception):
        pass

    def stop(*args, **kwargs):  # run_unit evaluates right after training: stop there
        raise TrainingDone

    lpgeom.evaluation.evaluate_robustness = stop
    started, load_before = _now(), _load_average()
    scratch = RUNS / "_no_results"  # run_unit skips units whose result exists: give it an empty folder
    try:
        run_unit(unit, study_size("cpu"), scratch, RUNS)
    except TrainingDone:
        pass
    run_dir = RUNS / "cpu" / unit_name
    history = read_metrics(run_dir, kind="step")
    mismatch = first_history_mismatch(record["history"], history)
    out = {"unit": unit_name, "code": str(code), "commit": commit, "record_commit": record["provenance"]["commit"],
           "record_dirty": record["provenance"].get("dirty"), "torch_threads": torch.get_num_threads(),
           "weights": str((run_dir / "model.pt").relative_to(ROOT)), "history_steps": len(history),
           "history_matches": mismatch is None, "first_mismatch": mismatch, "started": started, "ended": _now(),
           "load_average_before_after": [load_before, _load_average()],
           "command": f"PYTHONPATH={code} {sys.executable} scripts/full_autoattack_check.py retrain {unit_name}"}
    _write(RUNS / "cpu" / f"{unit_name}.retrained.json", out)
    print(f"{unit_name}: retrained at {commit[:10]}, history {'matches' if mismatch is None else 'DIFFERS'}", flush=True)
    return 0


def chunk_bounds(key: str) -> tuple[int, int]:
    """The points ``start:end`` a saved chunk covers (its key in a partial file), ``0 <= start < end``."""
    try:
        start, end = (int(v) for v in key.split(":"))
    except ValueError:
        raise ValueError(f"saved chunk key {key!r} is not 'start:end'") from None
    if not 0 <= start < end:
        raise ValueError(f"saved chunk {key!r} covers no points")
    return start, end


def chunk_plan(saved: Iterable[str], n: int, chunk: int) -> list[tuple[int, int, bool]]:
    """The chunks ``(start, end, already saved)`` covering points ``0..n-1``: saved ones first, of whatever size.

    A check resumed on another machine (or at another ``--chunk``) reuses every saved chunk
    ``"start:end"`` that begins where the walk stands, and attacks ``chunk`` points at a time in
    between. A saved chunk that ends past ``n`` or overlaps the walk means the partial file
    belongs to other points: refused.
    """
    by_start = {}
    for key in saved:
        start, end = chunk_bounds(key)
        if end > n:
            raise ValueError(f"saved chunk {key!r} does not lie in the {n} points to attack")
        by_start[start] = end
    plan, start = [], 0
    while start < n:
        if start in by_start:
            plan.append((start, by_start[start], True))
        else:
            nxt = min([s for s in by_start if s > start], default=n)
            plan.append((start, min(start + chunk, nxt), False))
        start = plan[-1][1]
    covered = {s for s, _, was in plan if was}
    if covered != set(by_start):
        raise ValueError(f"saved chunks {sorted(set(by_start) - covered)} overlap others: the partial file is not "
                         "one walk over these points")
    return plan


def evaluate(unit_name: str, batch_size: int, chunk: int = 100, device: str = "cpu", revision: int = 1,
             test_points: pathlib.Path | None = None) -> int:
    """Evaluate the verified retrained weights with the full standard AutoAttack (lpgeom on PYTHONPATH).

    ``test_points``: a file holding the study's test points (what ``bundle`` writes for a machine
    without the data set); by default they are read from the data set.
    """
    import torch

    import lpgeom
    from lpgeom.evaluation import evaluate_robustness
    from lpgeom.experiments import study_size, weights_digest
    from lpgeom.experiments.provenance import provenance, start_clock
    from lpgeom.experiments.study import new_model, study_data, study_threats
    from lpgeom.models import load_weights, read_state_dict
    from lpgeom.utils import pack_flags, unpack_flags
    from lpgeom.utils.flags import unpack_flag_array

    started = start_clock()
    record = _record(unit_name, revision)
    check = json.loads((RUNS / _folder(revision) / f"{unit_name}.retrained.json").read_text())
    size = study_size("cpu")
    model = new_model(size)
    path = ROOT / check["weights"]
    load_weights(model, read_state_dict(path), source=str(path))
    model.eval()
    digest = weights_digest(model)
    if test_points is None:
        _, (x, y) = study_data(size)
    else:  # bundled: the same points, carried as tensors (the clean predictions below check them with the weights)
        points = torch.load(test_points, weights_only=True)
        x, y = points["x"], points["y"]
    with torch.no_grad():
        clean = torch.cat([model(x[i:i + 500]).argmax(1) == y[i:i + 500] for i in range(0, len(x), 500)])
    recorded_clean = unpack_flags(record["report"]["per_point"])["clean"]
    problems = []
    if record.get("model_sha256") not in (None, digest):
        problems.append("weights digest differs from the record's model_sha256")
    if record.get("model_sha256") is None and revision > 1:
        problems.append("the record carries no model_sha256 to verify the weights against")
    if check["history_matches"] is False:
        problems.append(f"training history differs from the record from step {check['first_mismatch'].get('global_step')}")
    if not torch.equal(clean, recorded_clean):
        problems.append(f"clean predictions differ from the record on {int((clean != recorded_clean).sum())} test points")
    base = {"unit": unit_name, "profile": "cpu", "n_points": len(x), "retrained": check, "model_sha256": digest,
            "recorded_model_sha256": record.get("model_sha256"),
            "code_revision": record.get("provenance", {}).get("code_revision", 1),  # the checked record's revision
            "test_points": "the study's data set" if test_points is None else
            f"{test_points.name}: the study's test points carried as tensors (sha256 {_sha256(test_points)})"}
    if problems:
        _write(_checks(revision) / f"cpu_{unit_name}.diverged.json", {**base, "problems": problems,
               "provenance": provenance("cpu", 0, started, command=" ".join(sys.argv))})
        print(f"{unit_name}: NOT evaluated: {'; '.join(problems)}", flush=True)
        return 3
    load_before = _load_average()
    model.to(device)  # verified on the CPU above; the attack may run elsewhere (the model decides there)
    threats = study_threats(size)
    flags = unpack_flags(record["report"]["per_point"])
    worst, broken, reports, keys = {"clean": clean}, {}, {}, {}
    devices = {ball.name: set() for ball in threats}  # where each norm's chunks ran (a device run's chunks say so)
    origins: dict[str, dict] = {}
    for ball in threats:  # the full AutoAttack on the points the recorded evaluation left robust under this norm
        robust = flags[ball.name] & clean
        still = robust.clone()
        # in chunks of points, each saved when done: an interrupted check resumes at the next chunk
        partial = RUNS / _folder(revision) / f"{unit_name}.standard_{ball.name}.json"
        done = json.loads(partial.read_text()) if partial.is_file() else {"chunks": {}}
        reports[ball.name] = []
        indices = robust.nonzero().squeeze(1)
        keys[ball.name] = []
        for start, end, saved in chunk_plan(done["chunks"], len(indices), chunk):
            key = f"{start}:{end}"
            if not saved:
                idx = indices[start:end]
                report = evaluate_robustness(model, x[idx], y[idx], [ball], method="autoattack-standard", seed=0,
                                             batch_size=batch_size, name=unit_name, device=device)
                done["chunks"][key] = {"robust": report.per_point[ball.name].int().tolist(),
                                       "report": report.to_dict(per_point=False), "ended": _now(),
                                       "load_average": _load_average(), "device": device}
                _write(partial, done)
            still[indices[start:end]] = torch.from_numpy(unpack_flag_array(done["chunks"][key]["robust"], name=key))
            reports[ball.name].append(done["chunks"][key]["report"])
            keys[ball.name].append(key)
            devices[ball.name].add(done["chunks"][key].get("device", "not recorded"))
            if "ran_on" in done["chunks"][key]:  # collected from a device run: say which, in the record itself
                origins.setdefault(ball.name, {})[key] = {k: done["chunks"][key].get(k) for k in
                                                          ("device", "ran_on", "collected_from", "ended")}
        worst[ball.name], broken[ball.name] = still, int((robust & ~still).sum())
    norms = [b.name for b in threats]
    where = {k: " + ".join(sorted(v)) for k, v in devices.items()}
    ran_on = sorted({d for v in devices.values() for d in v})
    worst["union"] = torch.stack([worst[k] for k in norms]).all(0) & clean
    code = pathlib.Path(lpgeom.__file__).resolve().parents[1]
    rec = record["report"]
    verified_by = (["recorded training history, every logged step, exactly"] if check["history_matches"] else []) + [
        "clean prediction of every test point"] + (["weights digest"] if record.get("model_sha256") else [])
    out = {**base, "verified_by": verified_by,
           "what": "full standard AutoAttack (APGD-CE, APGD-T, FAB-T, Square; l_1: its standard l_1 version), seed 0, "
                   "run per norm on the points the recorded two-APGD evaluation left robust under that norm, in chunks "
                   "(in test-set order; their bounds in 'chunks', where each ran in 'device'); a point counts as "
                   "robust if both evaluations leave it robust",
           "recorded_settings": {"method": rec["method"], "n_iter": rec["n_iter"],
                                 "n_target_classes": rec.get("n_target_classes"), "seed": rec["seed"]},
           "recorded": {**rec["robust_accuracy"], "union": rec["union_accuracy"]},
           "worst_case": {k: float(worst[k].float().mean()) for k in [*norms, "union"]},
           "broken_by_standard": broken, "per_point": pack_flags(worst),
           "standard_reports": reports, "chunks": keys, "chunks_from_device_runs": origins, "device": ran_on[0] if len(ran_on) == 1 else where,
           "load_average_before_after": [load_before, _load_average()],
           "contamination": " / ".join(_contamination(d) for d in ran_on),
           "provenance": provenance("cpu", 0, started, command=f"PYTHONPATH={code} {sys.executable} "
                                    f"scripts/full_autoattack_check.py evaluate {unit_name} --batch-size {batch_size} "
                                    f"--chunk {chunk} --device {device} --revision {revision}"
                                    + ("" if test_points is None else f" --test-points {test_points}"))}
    _write(_checks(revision) / f"cpu_{unit_name}.json", out)
    print(f"{unit_name}: union {100 * rec['union_accuracy']:.1f} (two APGDs, recorded) -> "
          f"{100 * out['worst_case']['union']:.1f} (with the full standard AutoAttack); broken: {broken}", flush=True)
    return 0


def _sha256(path: pathlib.Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _contamination(device: str) -> str:
    if device in ("cpu", "not recorded"):
        return ("the machine's 2 cores were shared with other processes (other helpers' tests and runs); "
                "this changes timings only")
    return (f"ran on {device} of a lent GPU machine at the same time as the other bundled units' evaluations (one "
            "process each) and the gpu tests; this changes timings only")


def bundle(units: list[str], eval_commit: str, revision: int = 2, to: pathlib.Path = BUNDLE) -> int:
    """Pack what ``device-run`` needs for ``units`` into ``to``: weights, their notes, the evaluation code, the data."""
    import torch

    from lpgeom.experiments import study_size
    from lpgeom.experiments.study import study_data

    if revision < 2:
        raise SystemExit("bundle: only revision-2 units (the study's own weights) can be checked on another machine")
    if to.exists():
        shutil.rmtree(to)
    code = to / "evalcode"  # a one-commit checkout: the evaluation's provenance names eval_commit, clean
    code.mkdir(parents=True)
    # sparse: lpgeom/ alone (the package the attack imports; a device call carries 64 MiB at most)
    for args in (["init", "-q"], ["sparse-checkout", "set", "lpgeom"], ["fetch", "-q", "--depth", "1", str(ROOT), eval_commit],
                 ["checkout", "-q", "FETCH_HEAD"]):
        subprocess.run(["git", "-C", str(code), *args], check=True)
    head = subprocess.run(["git", "-C", str(code), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    if not head.startswith(eval_commit):
        raise SystemExit(f"bundle: {eval_commit} resolved to {head}; pass the full commit")
    _, (x, y) = study_data(study_size("cpu"))  # the test points only: the data set itself is too large to carry
    torch.save({"x": x.clone(), "y": y.clone()}, to / "test_points.pt")  # clone: not the whole test set's storage
    packed = []
    for unit in units:
        weights = _study_weights(unit, revision)
        if (_checks(revision) / f"cpu_{unit}.json").is_file():
            print(f"{unit}: already checked, not bundled", flush=True)
            continue
        if not weights.is_file():
            raise SystemExit(f"bundle: {unit}'s weights {weights} are not on this machine")
        (to / "weights" / unit).mkdir(parents=True)
        shutil.copy2(weights, to / "weights" / unit / "model.pt")
        packed.append(unit)
    _write(to / "bundle.json", {"units": packed, "revision": revision, "eval_commit": head, "packed": _now(),
                                "test_points_sha256": _sha256(to / "test_points.pt")})
    print(f"bundled {len(packed)} units in {to}: {' '.join(packed)}", flush=True)
    return 0


def device_run(seconds: float, batch_size: int, chunk: int, device: str, source: pathlib.Path = BUNDLE) -> int:
    """Evaluate every bundled unit at once (one process each) for at most ``seconds``; copy what finished to $OUT."""
    spec = json.loads((source / "bundle.json").read_text())
    revision = spec["revision"]
    archive = pathlib.Path(os.environ.get("OUT", "/tmp/full_autoattack_out")) / "full_autoattack"
    out = pathlib.Path("/tmp/full_autoattack")  # packed into one archive at the end: a device call returns 8 files
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source / "evalcode"), *[
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and pathlib.Path(p).resolve() != ROOT]]),
        "OMP_NUM_THREADS": "1"}
    points = source / "test_points.pt"
    if _sha256(points) != spec["test_points_sha256"]:
        raise SystemExit(f"device-run: {points} is not the file bundled (sha256 differs)")
    jobs = {}
    for unit in spec["units"]:
        weights = _study_weights(unit, revision)
        weights.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / "weights" / unit / "model.pt", weights)
        found(unit, revision)
        log = open(out / f"{unit}.log", "w")
        jobs[unit] = (subprocess.Popen([sys.executable, __file__, "evaluate", unit, "--batch-size", str(batch_size),
                                        "--chunk", str(chunk), "--device", device, "--revision", str(revision),
                                        "--test-points", str(points)], cwd=source / "evalcode", env=env, stdout=log, stderr=subprocess.STDOUT), log)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(job.poll() is None for job, _ in jobs.values()):
        time.sleep(2)
    status = 0
    for unit, (job, log) in jobs.items():
        if job.poll() is None:
            job.kill()
            job.wait()
            print(f"{unit}: stopped at the deadline ({seconds:.0f} s)", flush=True)
            status |= 8
        else:
            status |= job.returncode
        log.close()
        for done in [_checks(revision) / f"cpu_{unit}.json", _checks(revision) / f"cpu_{unit}.diverged.json",
                     *sorted((RUNS / _folder(revision)).glob(f"{unit}.*.json"))]:
            if done.is_file():
                shutil.copy2(done, out / done.name)
    archive.parent.mkdir(parents=True, exist_ok=True)
    packed = shutil.make_archive(str(archive), "gztar", root_dir=out)
    print(f"device-run: {sum(1 for u in jobs if (out / f'cpu_{u}.json').is_file())} of {len(jobs)} units checked; "
          f"files in {packed}", flush=True)
    return status


def collect(source: pathlib.Path, revision: int = 2, partials_device: str | None = None, ran_on: str | None = None) -> int:
    """File the checks a device run finished (``cpu_<unit>.json``, ``.diverged.json``); never over an existing one.

    With ``partials_device`` (the ``--device`` the device run attacked on) and ``ran_on`` (the
    machine, in words), the norms an unfinished unit did complete are kept too: their chunks go
    into this machine's partial files, each marked with where it ran, so ``run`` resumes the unit
    here at the next chunk (a chunk already saved here is never replaced; a device chunk that overlaps
    one saved here is left out, so the walk over the points stays one walk).
    """
    import tarfile
    import tempfile

    source_name = source.name
    if source.is_file():  # the archive device-run writes
        unpacked = pathlib.Path(tempfile.mkdtemp(prefix="full_autoattack_"))
        with tarfile.open(source) as tar:
            tar.extractall(unpacked, filter="data")
        source = unpacked
    filed = 0
    for path in sorted(source.glob("cpu_*.json")):
        target = _checks(revision) / path.name
        record = json.loads(path.read_text())
        if record.get("code_revision") != revision:
            raise SystemExit(f"collect: {path.name} checks a revision-{record.get('code_revision')} record, "
                             f"not revision {revision}")
        if target.exists():
            print(f"{path.name}: already filed, left as it is", flush=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        filed += 1
        print(f"{path.name}: filed", flush=True)
    print(f"collect: {filed} checks filed in {_checks(revision)}", flush=True)
    if partials_device is None:
        return 0
    if not ran_on:
        raise SystemExit("collect: say where the partial chunks ran (--ran-on) when keeping them")
    kept = 0
    for path in sorted(source.glob("*.standard_*.json")):
        unit = path.name.split(".standard_")[0]
        if (_checks(revision) / f"cpu_{unit}.json").is_file():
            continue  # finished: its record holds every chunk
        target = RUNS / _folder(revision) / path.name
        here = json.loads(target.read_text()) if target.is_file() else {"chunks": {}}
        for key, chunk in json.loads(path.read_text())["chunks"].items():
            start, end = chunk_bounds(key)
            if any(start < e and s < end for s, e in map(chunk_bounds, here["chunks"])):
                continue  # these points were (partly) attacked here: the chunk saved here stays
            here["chunks"][key] = {**chunk, "device": chunk.get("device", partials_device), "ran_on": ran_on,
                                   "collected_from": source_name}
            kept += 1
        _write(target, here)
    print(f"collect: {kept} chunks of unfinished units kept in {RUNS / _folder(revision)}", flush=True)
    return 0


def _worktree(commit: str) -> pathlib.Path:
    path = WORKTREES / f"wt-{commit[:10]}"
    if not path.is_dir():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit], check=True)
    return path


def run(units: list[str], eval_commit: str | None, batch_size: int, chunk: int, device: str, revision: int = 1) -> int:
    """Retrain (or, from revision 2, find the study's weights), verify and evaluate each unit in turn; skips what is done."""
    status, checks = 0, _checks(revision)
    for unit in units:
        if (checks / f"cpu_{unit}.json").is_file() or (checks / f"cpu_{unit}.diverged.json").is_file():
            print(f"{unit}: already checked", flush=True)
            continue
        if not (ROOT / "data" / "results" / _folder(revision) / f"{unit}.json").is_file():
            print(f"{unit}: no revision-{revision} record yet, skipped", flush=True)
            continue
        record = _record(unit, revision)
        if revision > 1 and _study_weights(unit, revision).is_file():
            found(unit, revision)
        elif revision > 1:
            print(f"{unit}: the study's weights {_study_weights(unit, revision)} are not on this machine; retrain them "
                  f"with lpgeom reproduce at {record['provenance']['commit'][:10]} first", flush=True)
            status |= 4
            continue
        if not (RUNS / _folder(revision) / f"{unit}.retrained.json").is_file():
            code = _worktree(record["provenance"]["commit"])
            # the CPU, as recorded (the old study code trains on a GPU when it sees one)
            env = {**os.environ, "PYTHONPATH": str(code), "OMP_NUM_THREADS": "2", "CUDA_VISIBLE_DEVICES": ""}
            subprocess.run([sys.executable, __file__, "retrain", unit], cwd=code, env=env, check=True)
        if eval_commit is None:
            continue
        code = _worktree(eval_commit)
        env = {**os.environ, "PYTHONPATH": str(code)}
        status |= subprocess.run([sys.executable, __file__, "evaluate", unit, "--batch-size", str(batch_size),
                                  "--chunk", str(chunk), "--device", device, "--revision", str(revision)],
                                 cwd=code, env=env).returncode
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="retrain, verify and evaluate units (default: all Table 1 units), resumable")
    p.add_argument("units", nargs="*", default=list(TABLE1_UNITS))
    p.add_argument("--eval-commit", help="commit whose evaluation code attacks the models (omit: only retrain)")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--chunk", type=int, default=100, help="points attacked (and saved) at a time")
    p.add_argument("--device", default="cpu", help="where the attack runs (retraining always runs on the CPU)")
    p.add_argument("--revision", type=int, default=1, choices=(1, 2),
                   help="code revision of the records checked (2: the study's own weights, verified by digest)")
    p = sub.add_parser("retrain")
    p.add_argument("unit")
    p = sub.add_parser("evaluate")
    p.add_argument("unit")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--chunk", type=int, default=100)
    p.add_argument("--device", default="cpu")
    p.add_argument("--revision", type=int, default=1, choices=(1, 2))
    p.add_argument("--test-points", type=pathlib.Path, help="the study's test points as tensors (default: the data set)")
    p = sub.add_parser("bundle", help="pack revision-2 units for a device run (into gpu_carry/)")
    p.add_argument("units", nargs="+")
    p.add_argument("--eval-commit", required=True)
    p.add_argument("--revision", type=int, default=2, choices=(2,))
    p = sub.add_parser("device-run", help="on the device: evaluate every bundled unit at once until a deadline")
    p.add_argument("--seconds", type=float, default=250)
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--chunk", type=int, default=1000, help="points attacked (and saved) at a time")
    p.add_argument("--device", default="cuda")
    p = sub.add_parser("collect", help="file the checks a device run brought back")
    p.add_argument("source", type=pathlib.Path)
    p.add_argument("--revision", type=int, default=2, choices=(2,))
    p.add_argument("--partials-device", help="also keep unfinished units' chunks, which ran on this device")
    p.add_argument("--ran-on", help="the machine those chunks ran on, in words")
    args = parser.parse_args()
    if args.command == "bundle":
        return bundle(args.units, args.eval_commit, args.revision)
    if args.command == "device-run":
        return device_run(args.seconds, args.batch_size, args.chunk, args.device)
    if args.command == "collect":
        return collect(args.source, args.revision, args.partials_device, args.ran_on)
    if args.command == "run":
        return run(args.units, args.eval_commit, args.batch_size, args.chunk, args.device, args.revision)
    if args.command == "retrain":
        return retrain(args.unit)
    return evaluate(args.unit, args.batch_size, args.chunk, args.device, args.revision, args.test_points)


if __name__ == "__main__":
    sys.exit(main())
