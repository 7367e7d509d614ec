// Drive JupyterLab 4 as a reader would: open a notebook, run it, look at what shows, move a widget.
// Called by tests/book/test_jupyterlab.py; prints one JSON line with what it saw.
// Environment: PLAYWRIGHT_CORE (path of the playwright-core package), LAB_URL (…/lab/tree/<notebook>?token=…),
// CHROMIUM (executable), SHOT (optional screenshot path).
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const RAW_MYST = [
  /\{(py:[a-z]+|doc|ref|eq|cite(:[a-z]+)?|term|numref|admonition|figure|math)\}/,  // roles and directives
  /^\s*:(class|label|name|open):/m,                                                 // directive options
  /^\s*(:::|```)\s*\{?/m,                                                           // fences
  /^\s*\([a-z][\w-]*\)=\s*$/m,                                                       // (label)= targets
];

(async () => {
  const out = { steps: [] };
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(process.env.LAB_URL, { timeout: 180000 });
    await page.waitForFunction(() => window.jupyterapp && document.querySelector(".jp-Notebook .jp-Cell"), null,
      { timeout: 180000 });
    // the kernel is up when the session reports idle
    await page.waitForFunction(() => {
      const nb = window.jupyterapp.shell.currentWidget;
      return nb && nb.sessionContext && nb.sessionContext.session && nb.sessionContext.session.kernel &&
        nb.sessionContext.session.kernel.status === "idle";
    }, null, { timeout: 180000 });
    out.steps.push("kernel idle");

    // 1. as opened: markdown rendered, solutions folded
    const opened = await page.evaluate((patterns) => {
      const nb = window.jupyterapp.shell.currentWidget.content;
      const res = { raw: [], hidden_cells: 0, folded: 0, visible_solution_code: 0, dropdowns: 0, open_dropdowns: 0,
        visible_dropdown_body: 0, markdown_cells: 0, rendered_myst: 0 };
      nb.widgets.forEach((cell) => {
        const meta = cell.model.getMetadata("tags") || [];
        if (cell.model.type === "markdown") {
          res.markdown_cells += 1;
          if (cell.node.querySelector(".myst")) res.rendered_myst += 1;
          const text = cell.node.querySelector(".jp-MarkdownOutput, .jp-RenderedMarkdown, .jp-RenderedMySTMarkdown");
          const shown = text ? text.textContent : "";
          patterns.forEach((src) => { const m = shown.match(new RegExp(src, "m")); if (m) res.raw.push(m[0] + " in: " + shown.slice(0, 80)); });
          const source = cell.model.sharedModel.getSource();
          if (/:class: dropdown/.test(source)) {
            res.dropdowns += 1;
            const det = cell.node.querySelector("details");
            if (det && det.open) res.open_dropdowns += 1;
            // the body: everything in the admonition but its title
            const body = Array.from(cell.node.querySelectorAll("details > :not(summary), .admonition > :not(.admonition-title):not(summary)"));
            if (!det || body.some((n) => n.checkVisibility() && n.getBoundingClientRect().height > 0)) res.visible_dropdown_body += 1;
          }
        }
        if (meta.includes("hide-cell")) {
          res.hidden_cells += 1;
          if (cell.inputHidden && cell.outputHidden) res.folded += 1;
          const editor = cell.node.querySelector(".jp-Cell-inputArea .cm-content");
          if (editor && editor.checkVisibility() && editor.getBoundingClientRect().height > 0) res.visible_solution_code += 1;
        }
      });
      return res;
    }, RAW_MYST.map((r) => r.source));
    out.opened = opened;

    // 2. run every cell; wait until no cell is pending and the kernel is idle again
    await page.evaluate(() => window.jupyterapp.commands.execute("notebook:run-all-cells"));
    await page.waitForFunction(() => {
      const panel = window.jupyterapp.shell.currentWidget;
      const cells = panel.content.widgets.filter((c) => c.model.type === "code");
      return panel.sessionContext.session.kernel.status === "idle" &&
        cells.every((c) => c.model.executionCount !== null);
    }, null, { timeout: 400000, polling: 500 });
    out.steps.push("ran all cells");
    out.errors_in_outputs = await page.evaluate(() =>
      Array.from(document.querySelectorAll(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"))
        .map((n) => n.textContent).filter((t) => /Error|Traceback/.test(t)).map((t) => t.slice(0, 300)));

    // 3. the widget panel: move the p slider one step with the keyboard, then choose the CIFAR-10 preset
    const panel = page.locator(".lpgeom-panel").first();
    await panel.waitFor({ timeout: 120000 });
    await panel.scrollIntoViewIfNeeded();
    const table = panel.locator(".widget-html").last();
    await page.waitForFunction((el) => /PASS|FAIL/.test(el.textContent), await table.elementHandle(), { timeout: 120000 });
    out.table_before = (await table.textContent()).slice(0, 200);
    const handle = panel.locator(".widget-slider .noUi-handle").first();
    await handle.focus();
    await handle.press("ArrowRight");
    await page.waitForFunction(([el, before]) => el.textContent.slice(0, 200) !== before && /PASS|FAIL/.test(el.textContent),
      [await table.elementHandle(), out.table_before], { timeout: 120000 }).catch(() => {});
    out.table_after_slider = (await table.textContent()).slice(0, 200);
    await handle.press("ArrowLeft");  // back to p = 2 for the preset check
    await page.waitForFunction((el) => /l2 radii/.test(el.textContent), await table.elementHandle(), { timeout: 120000 })
      .catch(() => {});
    await panel.locator("select").first().selectOption({ label: "CIFAR-10 (12, 8/255, 3072)" });
    await page.waitForFunction((el) => /d=3072/.test(el.textContent) && /PASS|FAIL/.test(el.textContent),
      await table.elementHandle(), { timeout: 240000 }).catch(() => {});
    out.table_after_preset = (await table.textContent()).slice(0, 1000);
    out.inputs_after_preset = await panel.locator("input[type=number]").evaluateAll((els) => els.map((e) => e.value));
    if (process.env.SHOT) await page.screenshot({ path: process.env.SHOT, fullPage: false });
    out.page_errors = errors;
  } catch (e) {
    out.error = String(e).slice(0, 2000);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
})();
