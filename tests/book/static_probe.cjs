// Visit every page of the built (static) book in Chromium and report, per page:
//  - console errors, uncaught page errors and failed requests (HTTP >= 400, or not served at all);
//  - every widget control (ipywidgets saved state), whether it is disabled, and whether pressing it changed anything;
//  - every plotly slider and menu button, pressed, and whether the figure changed;
//  - the smallest displayed font size (CSS px) of text in figures and tables.
// Called by tests/book/test_static_pages.py. Environment: PLAYWRIGHT_CORE, CHROMIUM, BASE (served book), PAGES
// (JSON list of paths). Prints one JSON object.
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

async function probePage(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
  const res = { console_errors: [], page_errors: [], failed: [], widgets: [], plotly: [], fonts: [] };
  page.on("console", (m) => { if (m.type() === "error") res.console_errors.push(m.text().slice(0, 300)); });
  page.on("pageerror", (e) => res.page_errors.push(String(e).slice(0, 300)));
  page.on("response", (r) => { if (r.status() >= 400) res.failed.push(`${r.status()} ${r.url()}`); });
  page.on("requestfailed", (r) => res.failed.push(`failed ${r.url()} ${r.failure() && r.failure().errorText}`));
  await page.goto(url, { waitUntil: "load", timeout: 120000 });
  // widgets render asynchronously from the saved state; plotly figures draw on load
  await page.waitForTimeout(1500);
  await page.waitForFunction(() => !document.querySelector("script[type='application/vnd.jupyter.widget-view+json']") ||
    document.querySelector(".jupyter-widgets, .widget-label, .widget-html"), null, { timeout: 60000 }).catch(() => {});
  await page.waitForTimeout(1500);

  // ---- widget controls: each must be disabled (no kernel answers them here), and pressing one changes nothing
  const n = await page.locator(".jupyter-widgets select, .jupyter-widgets input, .jupyter-widgets button, .jupyter-widgets .noUi-handle").count();
  for (let i = 0; i < n; i++) {
    const el = page.locator(".jupyter-widgets select, .jupyter-widgets input, .jupyter-widgets button, .jupyter-widgets .noUi-handle").nth(i);
    const info = await el.evaluate((e) => {
      const slider = e.closest(".noUi-target");
      const disabled = e.disabled === true || (slider && slider.hasAttribute("disabled")) || e.closest(".mod-disabled") !== null;
      const box = e.closest(".lpgeom-panel");
      return { tag: e.tagName.toLowerCase(), cls: e.className.slice(0, 60), disabled,
               says_so: !!(box && /Run this notebook/.test(box.textContent)),
               value: e.value !== undefined ? String(e.value) : e.getAttribute("aria-valuenow") };
    });
    // press it as a reader would: a key on a focused slider or input, a click on a button or menu
    try {
      // no force: a disabled control must refuse what a reader does, not what a script may do
      if (info.tag === "select") await el.selectOption({ index: 1 }, { timeout: 2000 });
      else if (info.tag === "input") { await el.click({ timeout: 2000 }); await el.press("ArrowUp"); }
      else { await el.focus({ timeout: 2000 }); await el.press("ArrowRight"); }
    } catch (e) { info.press_error = String(e).slice(0, 120); }
    await page.waitForTimeout(200);
    info.after = await el.evaluate((e) => e.value !== undefined ? String(e.value) : e.getAttribute("aria-valuenow"));
    res.widgets.push(info);
  }

  // ---- plotly sliders and menu buttons: each press must change the figure
  const figs = await page.evaluate(() => Array.from(document.querySelectorAll(".js-plotly-plot")).map((gd, i) => {
    gd.setAttribute("data-probe", String(i));
    return { i, id: gd.id, sliders: (gd.layout.sliders || []).length, menus: (gd.layout.updatemenus || []).length };
  }));
  const state = (i) => page.evaluate((i) => {
    const gd = document.querySelector(`[data-probe="${i}"]`);
    return JSON.stringify([gd.data.map((t) => [t.x, t.y, t.z, t.visible]), (gd.layout.annotations || []).map((a) => a.text),
      (gd.layout.sliders || []).map((s) => s.active), gd.layout.title && gd.layout.title.text]);
  }, i);
  for (const f of figs) {
    const gd = page.locator(`[data-probe="${f.i}"]`);
    await gd.scrollIntoViewIfNeeded();
    for (let s = 0; s < f.sliders; s++) {
      const before = await state(f.i);
      const rail = gd.locator("rect.slider-rail-touch-rect").nth(s);
      const box = await rail.boundingBox();
      const active = await page.evaluate(([i, s]) => document.querySelector(`[data-probe="${i}"]`).layout.sliders[s].active || 0, [f.i, s]);
      const steps = await page.evaluate(([i, s]) => document.querySelector(`[data-probe="${i}"]`).layout.sliders[s].steps.length, [f.i, s]);
      // click at the far end from the active step
      const x = active < steps / 2 ? box.x + box.width - 2 : box.x + 2;
      await page.mouse.click(x, box.y + box.height / 2);
      let after = before;
      for (let k = 0; k < 100 && after === before; k++) { await page.waitForTimeout(100); after = await state(f.i); }
      await page.waitForTimeout(300);
      res.plotly.push({ fig: f.id, control: `slider ${s}`, changed: after !== before });
    }
    const buttons = gd.locator("g.updatemenu-button");
    const nb = await buttons.count();
    for (let b = nb - 1; b >= 0; b--) {  // the last first: the first is usually the active one
      const before = await state(f.i);
      await buttons.nth(b).click({ force: true }).catch(() => {});
      let after = before;
      for (let k = 0; k < 30 && after === before; k++) { await page.waitForTimeout(100); after = await state(f.i); }
      res.plotly.push({ fig: f.id, control: `menu button ${b}`, changed: after !== before });
    }
  }

  // ---- every picture a cell draws sits in a figure with a numbered caption ("Fig. 3 ...")
  res.uncaptioned = await page.evaluate(() => Array.from(document.querySelectorAll(".cell_output img")).filter((img) => {
    if (img.closest(".jupyter-widgets")) return false;  // a picture inside a widget panel is part of the panel
    const fig = img.closest("figure");
    const cap = fig && fig.querySelector("figcaption");
    return !(cap && /Fig\.?\s*\d+/.test(cap.textContent));
  }).map((img) => (img.closest(".cell") || {}).id || img.src.slice(-40)));

  // ---- the smallest displayed text in figures and tables (CSS px as rendered)
  res.fonts = await page.evaluate(() => {
    const out = [];
    const scope = document.querySelectorAll("figure, table, .cell_output");
    scope.forEach((root) => {
      root.querySelectorAll("*").forEach((el) => {
        const own = Array.from(el.childNodes).some((c) => c.nodeType === 3 && c.textContent.trim());
        if (!own || !el.checkVisibility()) return;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) return;
        let px = parseFloat(getComputedStyle(el).fontSize);
        const svg = el.closest("svg");
        if (svg && svg.width && svg.width.baseVal && svg.width.baseVal.value) {
          px *= svg.getBoundingClientRect().width / svg.width.baseVal.value;
        }
        if (el.closest(".MathJax, mjx-container")) return;  // maths scales with its line
        out.push({ px: Math.round(px * 10) / 10, text: el.textContent.trim().slice(0, 40),
                   where: (el.closest("figure, table, .cell_output") || {}).className || "" });
      });
    });
    out.sort((a, b) => a.px - b.px);
    return out.slice(0, 5);
  });
  await page.close();
  return res;
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  const out = {};
  try {
    for (const p of JSON.parse(process.env.PAGES)) {
      try { out[p] = await probePage(browser, `${process.env.BASE}/${p}`); } catch (e) { out[p] = { error: String(e).slice(0, 500) }; }
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
})();
