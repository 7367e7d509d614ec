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
  setTimeout(function () {{ report({{before: before, after: snapshot(gd), frames: gd._transitionData._frames.length}}); }}, 1500);
}}
window.addEventListener("load", function () {{ setTimeout(poll, 100); }});
</script></body></html>
"""


def probe(built_book, book_server, tmp_path, page, div_id):
    probe_page = built_book / f"_probe_{div_id}.html"
    probe_page.write_text(PROBE.format(page=page, div_id=div_id))
    proc = run_chromium(f"{book_server}/{probe_page.name}", tmp_path, "--dump-dom", "--window-size=1300,1000")
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
