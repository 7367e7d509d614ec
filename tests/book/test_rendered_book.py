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


# ---- apparatus of the built pages (no browser needed: the HTML as written by the build) ----
PART2 = ("attacks", "evaluation", "training", "finetuning", "cifar10", "imagenet")
RAW_WARNING = re.compile(r"\b\w+Warning\b|/tmp/|ipykernel_\d+|tmp[a-z0-9_]{6,}/")


def visible_text(page):
    html = page.read_text(errors="ignore")
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def content_pages(built_book):
    return [p for p in built_book.rglob("*.html")
            if not {"_static", "_sources", "_images"} & set(p.relative_to(built_book).parts)
            and p.name not in ("genindex.html", "search.html", "py-modindex.html")]


def test_no_page_prints_a_warning_or_a_temporary_path(built_book):
    offenders = []
    for page in content_pages(built_book):
        for match in RAW_WARNING.finditer(visible_text(page)):
            offenders.append(f"{page.relative_to(built_book)}: {match.group(0)!r}")
    assert not offenders, "\n".join(offenders[:20])


def test_bibliography_resolves(built_book):
    entries = re.findall(r'class="citation', (built_book / "bibliography.html").read_text())
    assert len(entries) >= 15, f"bibliography lists {len(entries)} works"
    for page in content_pages(built_book):
        text = visible_text(page)
        assert "{cite" not in text and ":cite:" not in text and "[?]" not in text, f"unresolved citation in {page.name}"
    assert 'href="bibliography.html#' in (built_book / "intro.html").read_text(), "citations do not link to the bibliography"


def test_part2_chapters_have_figures_exercises_and_hidden_solutions(built_book):
    for name in PART2:
        html = (built_book / "part2" / f"{name}.html").read_text()
        assert len(re.findall(r"Exercise \d", visible_text(built_book / "part2" / f"{name}.html"))) >= 2, name
        assert re.search(r'<figcaption>.*?Fig\. \d', html, flags=re.S), f"{name}: no numbered figure with a caption"
        cells = html.split('<div class="cell ')[1:]
        # a hidden solution: the whole cell (the checker call and its verdict) inside a closed <details>
        hidden = [c for c in cells if c.startswith("tag_hide-cell") and "<details" in c[:200]
                  and re.search(r"check_\w+</span>", c) and "\u2705" in c and "</details>" in c
                  and c.index("\u2705") < c.index("</details>")]
        assert len(hidden) >= 2, f"{name}: {len(hidden)} solution cells hidden (code and output) until opened"
        assert 'class="math notranslate nohighlight"' in html and re.search(r'<span class="eqno">\(\d+\.?\d*\)', html), \
            f"{name}: no numbered equation"
        assert 'href="../api.html#lpgeom.' in html, f"{name}: no link to the API page"


def test_at_least_20_exercises_in_the_book(built_book):
    count = sum(len(re.findall(r"Exercise \d+:", visible_text(p))) for p in content_pages(built_book))
    assert count >= 20, f"{count} exercises in the whole book"
