"""Every page of the static book, in Chromium (Playwright): no console error, no missing file, no control
that looks live while it is dead, and text in figures and tables large enough to read.

One pass over all pages (tests/book/static_probe.cjs) feeds the tests below.
"""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from chromium import chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYWRIGHT = ROOT / ".playwright" / "node_modules" / "playwright-core"
MIN_FONT_PX = 9.0  # smallest text a reader can read as displayed (CSS px)


@pytest.fixture(scope="module")
def probed(built_book, book_server):
    if not PLAYWRIGHT.is_dir():
        pytest.fail(f"{PLAYWRIGHT} missing: run scripts/fetch_web_assets.sh (npm install of playwright-core)")
    if shutil.which("node") is None:
        pytest.fail("node is needed to drive Chromium with Playwright (scripts/setup.sh installs npm, which brings it)")
    pages = sorted(p.relative_to(built_book).as_posix() for p in built_book.rglob("*.html")
                   if not {"_static", "_sources", "_images"} & set(p.relative_to(built_book).parts)
                   and not p.name.startswith("_probe"))
    env = dict(os.environ, PLAYWRIGHT_CORE=str(PLAYWRIGHT), CHROMIUM=chromium(), BASE=book_server,
               PAGES=json.dumps(pages))
    proc = subprocess.run(["node", str(pathlib.Path(__file__).with_name("static_probe.cjs"))], env=env,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(result) == len(pages) >= 15, sorted(result)
    broken = {p: r["error"] for p, r in result.items() if "error" in r}
    assert not broken, broken
    return result


def test_no_console_error_and_no_missing_file_on_any_page(probed):
    offenders = []
    for page, r in probed.items():
        offenders += [f"{page}: console: {m}" for m in r["console_errors"]]
        offenders += [f"{page}: uncaught: {m}" for m in r["page_errors"]]
        offenders += [f"{page}: {m}" for m in r["failed"]]
    assert not offenders, "\n".join(offenders[:30])


def test_every_control_is_live_or_visibly_disabled(probed):
    """A widget control of the saved state has no kernel behind it: it must be disabled, with the panel saying so
    (pressing it must change nothing); a plotly slider or menu button must change its figure."""
    seen, offenders = 0, []
    for page, r in probed.items():
        for w in r["widgets"]:
            seen += 1
            if not (w["disabled"] and w["says_so"]):
                offenders.append(f"{page}: widget {w['tag']}.{w['cls']} looks live (disabled={w['disabled']}, "
                                 f"note={w['says_so']}, value {w['value']} -> {w['after']})")
            elif w["after"] != w["value"]:
                offenders.append(f"{page}: disabled widget {w['tag']} changed {w['value']} -> {w['after']} when pressed")
        for c in r["plotly"]:
            seen += 1
            if not c["changed"]:
                offenders.append(f"{page}: {c['fig']} {c['control']} changed nothing")
    assert seen >= 10, f"only {seen} controls found: the probe did not see the pages' figures and widgets"
    assert not offenders, "\n".join(offenders[:30])


def test_text_in_figures_and_tables_is_readable(probed):
    offenders = [f"{page}: {f['px']} px {f['text']!r} ({f['where'][:40]})"
                 for page, r in probed.items() for f in r["fonts"] if f["px"] < MIN_FONT_PX]
    assert not offenders, "\n".join(offenders[:30])


def test_every_drawn_figure_has_a_numbered_caption(probed):
    offenders = [f"{page}: {where}" for page, r in probed.items() for where in r["uncaptioned"]]
    assert not offenders, "\n".join(offenders)
