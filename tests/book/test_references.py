"""The built book's references resolve and its text has no raw LaTeX where MathJax does not reach.

No browser: the HTML as the build wrote it (Sphinx renders a cross-reference it cannot resolve as
code without a link; it warns only in nitpicky mode, which the numpydoc types of the API page would flood).
"""
import html
import re
from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.browser  # needs the built book (tests/book/conftest.py)

# Cross-references allowed to stay unresolved, each with its reason.
UNRESOLVED_OK: dict[str, str] = {}


class _XrefFinder(HTMLParser):
    """Collects the text of every ``code.xref`` that is not inside a link."""

    def __init__(self):
        super().__init__()
        self.depth_a, self.in_xref, self.text, self.unresolved = 0, 0, [], []

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class") or ""
        if tag == "a":
            self.depth_a += 1
        elif tag == "code" and "xref" in cls.split():
            if self.depth_a == 0:
                self.in_xref, self.text = 1, []
        elif self.in_xref:
            self.in_xref += 1

    def handle_endtag(self, tag):
        if tag == "a":
            self.depth_a = max(0, self.depth_a - 1)
        elif self.in_xref:
            self.in_xref -= 1
            if self.in_xref == 0:
                self.unresolved.append("".join(self.text).strip())

    def handle_data(self, data):
        if self.in_xref:
            self.text.append(data)


def pages(built_book):
    return [p for p in built_book.rglob("*.html")
            if not {"_static", "_sources", "_images"} & set(p.relative_to(built_book).parts)
            and not p.name.startswith("_probe")]


@pytest.mark.xfail(strict=True, reason=(
    "known (issue 28): on the API page about 25 short cross-references in docstrings (e.g. hull_worst_point() in "
    "lpgeom.geometry's, PRESETS, project_l1_box()) name no documented path; fix by writing the documented path"))
def test_every_cross_reference_resolves(built_book):
    offenders = []
    for page in pages(built_book):
        finder = _XrefFinder()
        finder.feed(page.read_text(errors="ignore"))
        offenders += [f"{page.relative_to(built_book)}: {name}" for name in finder.unresolved
                      if name.rstrip("()").split(".")[-1] not in UNRESOLVED_OK and name not in UNRESOLVED_OK]
    assert not offenders, f"{len(offenders)} unresolved cross-references:\n" + "\n".join(offenders[:40])


def test_unresolved_labels_do_not_show_as_text(built_book):
    """A {ref}/{numref} to a missing label shows its label name in parentheses, e.g. '(eq-threat-model)'."""
    offenders = []
    for page in pages(built_book):
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", page.read_text(errors="ignore"), flags=re.S))
        offenders += [f"{page.name}: {m}" for m in re.findall(r"\((?:eq|fig|tab|ch|sec)-[a-z0-9-]+\)", text)]
    assert not offenders, offenders[:20]


def test_no_raw_latex_in_bibliography_link_texts_or_search_excerpts(built_book):
    bib = (built_book / "bibliography.html").read_text()
    entries = re.findall(r'<div class="citation".*?</div>', bib, re.S) or [bib]
    raw = [e for e in entries if re.search(r"\$[^$]*\\|\\ell|\\epsilon", html.unescape(re.sub(r"<[^>]+>", "", e)))]
    assert not raw, raw[:3]
    for page in pages(built_book):
        for text in re.findall(r"<a\b[^>]*>(.*?)</a>", page.read_text(errors="ignore"), re.S):
            plain = re.sub(r"<[^>]+>", "", text)
            assert not re.search(r"\\(ell|epsilon|infty|mathrm)", plain) or "MathJax" in text or "math" in text, \
                f"raw LaTeX in a link text on {page.name}: {plain[:80]!r}"
    index = (built_book / "searchindex.js").read_text()
    titles = re.search(r'"titles":\s*(\[.*?\])', index, re.S)
    assert titles is None or not re.search(r"\\\\\(|\\\\ell|\\\\epsilon", titles.group(1)), "raw LaTeX in search titles"


def test_author_year_labels_are_unambiguous(built_book):
    """Two works of the same authors and year read 2021a / 2021b: one in-text label, one work."""
    targets: dict[str, set[str]] = {}
    for page in pages(built_book):
        for href, text in re.findall(r'<a\b[^>]*href="([^"]*bibliography\.html#[^"]+)"[^>]*>(.*?)</a>',
                                     page.read_text(errors="ignore"), re.S):
            label = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
            if re.search(r", \d{4}[a-z]?$", label):
                targets.setdefault(label, set()).add(href.rsplit("/", 1)[-1])
    assert len(targets) >= 10, sorted(targets)
    ambiguous = {label: sorted(t) for label, t in targets.items() if len(t) > 1}
    assert not ambiguous, f"labels naming two works: {ambiguous}"
