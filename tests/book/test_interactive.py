"""Part I's slider figures react in the static, offline book: a slider step changes the figure and its check.

A probe page (written next to the built book, same origin) loads a chapter in an iframe,
waits for the plotly figure, dispatches a mouse press on the slider's rail at its right
end (what a reader's click does), and writes what changed into its own DOM, which
headless Chromium dumps.
"""
import json
import re

import pytest

from chromium import run_chromium

pytestmark = pytest.mark.browser

PROBE = """<!doctype html><html><body>
<iframe id="page" src="{page}" style="width:1200px;height:4000px"></iframe>
<pre id="result">pending</pre>
<script>
function report(obj) {{ document.getElementById("result").textContent = JSON.stringify(obj); }}
function snapshot(gd) {{
  return {{
    y: gd.data.map(function (t) {{ return JSON.stringify(t.y || null).slice(0, 400); }}),
    annotation: (gd.layout.annotations || []).map(function (a) {{ return a.text; }}).join(" | "),
    rendered: Array.from(gd.querySelectorAll(".annotation-text")).map(function (n) {{ return n.textContent; }}).join(" | "),
    active: gd.layout.sliders[0].active,
  }};
}}
var tries = 0;
function poll() {{
  tries += 1;
  var doc = document.getElementById("page").contentDocument;
  var gd = doc && doc.getElementById("{div_id}");
  var rail = gd && gd.querySelector("rect.slider-rail-touch-rect");
  if (!rail || !gd._fullLayout || !gd._transitionData || !gd._transitionData._frames.length) {{
    if (tries > 400) {{ report({{error: "figure or slider not rendered", found: !!gd}}); return; }}
    setTimeout(poll, 50); return;
  }}
  var before = snapshot(gd);
  var box = rail.getBoundingClientRect();
  var win = document.getElementById("page").contentWindow;
  var at = {{bubbles: true, cancelable: true, view: win, button: 0,
            clientX: box.right - 2, clientY: box.top + box.height / 2}};
  rail.dispatchEvent(new win.MouseEvent("mousedown", at));
  win.dispatchEvent(new win.MouseEvent("mouseup", at));
  // the frame transition is animated: wait until the data changed (or 40 s: on a loaded machine
  // 10 s were once not enough, in a make test beside two single-thread attack runs)
  var waited = 0;
  function settle() {{
    var now = snapshot(gd);
    waited += 1;
    if (JSON.stringify(now.y) === JSON.stringify(before.y) && waited < 400) {{ setTimeout(settle, 100); return; }}
    setTimeout(function () {{ report({{before: before, after: snapshot(gd), frames: gd._transitionData._frames.length}}); }}, 300);
  }}
  setTimeout(settle, 300);
}}
window.addEventListener("load", function () {{ setTimeout(poll, 100); }});
</script></body></html>
"""


def probe(built_book, book_server, tmp_path, page, div_id):
    probe_page = built_book / f"_probe_{div_id}.html"
    probe_page.write_text(PROBE.format(page=page, div_id=div_id))
    proc = run_chromium(f"{book_server}/{probe_page.name}", tmp_path, "--dump-dom", "--window-size=1300,1000",
                        budget_ms=60000)
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r'<pre id="result">(.*?)</pre>', proc.stdout, re.S)
    assert match, proc.stdout[-2000:]
    text = match.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    assert text != "pending", "the probe never finished (figure not rendered in the time budget)"
    result = json.loads(text)
    assert "error" not in result, result
    return result


def test_radii_slider_changes_the_figure_and_its_check(built_book, book_server, tmp_path):
    result = probe(built_book, book_server, tmp_path, "part1/high_dimensions.html", "radii-slider")
    before, after = result["before"], result["after"]
    assert result["frames"] >= 10
    assert after["active"] != before["active"], "the slider did not move"
    assert after["y"] != before["y"], "the figure's data did not change"
    assert after["annotation"] != before["annotation"] and "max rel. gap" in after["annotation"]
    assert after["rendered"] != before["rendered"], "the check line on the page did not change"
    assert "CIFAR-10" in before["annotation"] or "LP" in before["annotation"]


def test_plane_slider_changes_the_balls_and_their_check(built_book, book_server, tmp_path):
    result = probe(built_book, book_server, tmp_path, "part1/union_vs_hull_2d.html", "plane-slider")
    before, after = result["before"], result["after"]
    assert after["active"] != before["active"], "the slider did not move"
    assert after["y"][-1] != before["y"][-1], "the hull's inscribed ball did not change"
    assert "p = 2" in before["rendered"] and "p = ∞" in after["rendered"], (before["rendered"], after["rendered"])


HIDDEN = """<!doctype html><html><body>
<iframe id="page" src="{page}" style="width:1200px;height:4000px"></iframe>
<pre id="result">pending</pre>
<script>
function visible(node) {{  // closed <details> hide their content with content-visibility: sizes alone do not tell
  var r = node.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && node.checkVisibility({{visibilityProperty: true}});  // opacity: opening fades in
}}
window.addEventListener("load", function () {{ setTimeout(function () {{
  var doc = document.getElementById("page").contentDocument;
  var cells = Array.from(doc.querySelectorAll(".cell.tag_hide-cell"));
  var dropdowns = Array.from(doc.querySelectorAll(".admonition.dropdown"));
  var out = {{
    hidden_cells: cells.length,
    visible_code: cells.filter(function (c) {{ return Array.from(c.querySelectorAll(".cell_input pre, .cell_output")).some(visible); }}).length,
    dropdowns: dropdowns.length,
    visible_solution_text: dropdowns.filter(function (d) {{
      return Array.from(d.children).filter(function (n) {{ return !n.classList.contains("admonition-title"); }}).some(visible);
    }}).length,
  }};
  cells.forEach(function (c) {{ var d = c.querySelector("details"); if (d) d.open = true; }});  // the reader opens them
  setTimeout(function () {{
    out.visible_after_opening = cells.filter(function (c) {{ return Array.from(c.querySelectorAll(".cell_input pre")).some(visible); }}).length;
    document.getElementById("result").textContent = JSON.stringify(out);
  }}, 500);
}}, 3000); }});
</script></body></html>
"""


@pytest.mark.parametrize("chapter", ["threat_models", "union_vs_hull_2d", "high_dimensions", "exercises"])
def test_part1_solutions_are_hidden_until_opened(built_book, book_server, tmp_path, chapter):
    probe_page = built_book / f"_probe_hidden_{chapter}.html"
    probe_page.write_text(HIDDEN.format(page=f"part1/{chapter}.html"))
    proc = run_chromium(f"{book_server}/{probe_page.name}", tmp_path, "--dump-dom", "--window-size=1300,1000")
    match = re.search(r'<pre id="result">(.*?)</pre>', proc.stdout, re.S)
    assert match and match.group(1) != "pending", proc.stdout[-2000:]
    result = json.loads(match.group(1).replace("&quot;", '"'))
    assert result["hidden_cells"] >= 2 and result["dropdowns"] >= 2, result  # two exercises, each with a solution
    assert result["visible_code"] == 0, f"solution code or output visible before opening: {result}"
    assert result["visible_solution_text"] == 0, f"solution text visible before opening: {result}"
    assert result["visible_after_opening"] == result["hidden_cells"], result


def test_part1_pages_print_no_warning_or_temporary_path(built_book):
    for page in sorted((built_book / "part1").glob("*.html")):
        text = page.read_text(errors="ignore")
        outputs = " ".join(re.findall(r'<div class="cell_output.*?</div>\s*</div>', text, re.S))
        for needle in ("Warning:", "/tmp/", "ipykernel_", "Traceback"):
            assert needle not in outputs, f"{page.name} shows {needle!r} in a cell output"
