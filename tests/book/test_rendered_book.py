"""The built book renders offline in a real browser: maths, plotly, widgets; no CDN."""
import re

import pytest

from chromium import run_chromium

pytestmark = pytest.mark.browser

CDN = re.compile(r"(cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|unpkg\.com|cdn\.plot\.ly|polyfill\.io)")


def dom(url, tmp_path):
    proc = run_chromium(url, tmp_path, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_maths_plotly_and_widgets_render(book_server, tmp_path):
    html = dom(f"{book_server}/part1/high_dimensions.html", tmp_path)
    assert html.count("<mjx-container") >= 20, "MathJax did not typeset the maths"
    assert "main-svg" in html and 'id="hull-3d"' in html, "the plotly figure did not draw"
    assert "widget-slider" in html, "the widget panel did not appear"


def test_widget_chapter_renders_saved_widget_state(book_server, tmp_path):
    html = dom(f"{book_server}/part1/union_vs_hull_2d.html", tmp_path)
    assert "widget-slider" in html and "PASS" in html, "saved widget state (sliders + radii table) missing"


def test_no_page_loads_anything_from_a_cdn(built_book):
    offenders = []
    for page in built_book.rglob("*.html"):
        for tag in re.findall(r"<(?:script|link)[^>]+>", page.read_text(errors="ignore")):
            if CDN.search(tag):
                offenders.append(f"{page.relative_to(built_book)}: {tag[:120]}")
    assert not offenders, "\n".join(offenders[:10])


def test_screenshot_is_not_blank(book_server, tmp_path):
    shot = tmp_path / "page.png"
    proc = run_chromium(f"{book_server}/part1/union_vs_hull_2d.html", tmp_path, f"--screenshot={shot}",
                        "--window-size=1200,1600")
    assert proc.returncode == 0 and shot.stat().st_size > 50_000, "screenshot missing or nearly empty"
