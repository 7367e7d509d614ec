"""Small fixes to what Jupyter Book 1's theme puts on every page (a local Sphinx extension, jupyter_book.yml).

- sphinx-thebe registers its configuration script once per read of the sources, so a page carried
  ``const THEBE_JS_URL = ...`` twice: the second raised "Identifier 'THEBE_JS_URL' has already been declared"
  in the browser's console on every page. Identical scripts are kept once.
- The theme's download menu offers ".pdf", which prints the current page only (window.print()); the book has no
  whole-book PDF that builds offline, so the button is removed (the .ipynb and source downloads stay).
- The widget manager's CSS (embed-amd.js) asks for its icon fonts at ``@jupyter-widgets/html-manager/dist/<file>``
  relative to the page: after the build, the fonts (web_assets/widget-fonts, scripts/fetch_web_assets.sh) are copied
  there beside every folder of pages, so that no page requests a missing file.
"""
from __future__ import annotations

import pathlib
import shutil

FONTS = pathlib.Path(__file__).resolve().parents[2] / "web_assets" / "widget-fonts"


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    # the same inline script is registered once with filename None and once with "" (Sphinx 7 re-adds the registry's)
    return (getattr(script, "filename", str(script)) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))


def tidy_page(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if scripts:
        seen, kept = set(), []
        for script in scripts:
            key = _script_key(script)
            if key not in seen:
                seen.add(key)
                kept.append(script)
        context["script_files"] = kept  # a new list: the builder's own list is shared by every page
    buttons = context.get("header_buttons")
    if buttons:
        context["header_buttons"] = [
            dict(b, buttons=[x for x in b.get("buttons", []) if x.get("label") != "download-pdf-button"])
            if b.get("label") == "download-buttons" else b
            for b in buttons
        ]


def copy_widget_fonts(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    if not FONTS.is_dir():
        raise FileNotFoundError(f"{FONTS} missing: run scripts/fetch_web_assets.sh")
    out = pathlib.Path(app.outdir)
    folders = {p.parent for p in out.rglob("*.html") if not {"_static", "_sources"} & set(p.relative_to(out).parts)}
    for folder in folders:
        target = folder / "@jupyter-widgets" / "html-manager" / "dist"
        target.mkdir(parents=True, exist_ok=True)
        for font in FONTS.iterdir():
            shutil.copyfile(font, target / font.name)


def setup(app):
    app.connect("html-page-context", tidy_page, priority=900)  # after the theme's buttons (501)
    app.connect("build-finished", copy_widget_fonts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
