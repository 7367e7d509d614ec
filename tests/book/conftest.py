"""Build the book once per test session (into a temporary folder): the one execution of every notebook.

The rendering and browser tests read the HTML; test_notebook_execution.py checks the executed
notebooks the build writes (``_build/jupyter_execute``) by nbval's rules, so no notebook runs twice.
"""
import os
import pathlib
import re
import socket
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The book build executes every notebook inside the first test that needs it; on a loaded 2-core
# machine that took over the suite's 900 s per-test timeout (pyproject.toml), so those tests get more.
BUILD_TIMEOUT_S = 2400


def pytest_collection_modifyitems(items):
    for item in items:
        if {"built_book", "book_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.timeout(BUILD_TIMEOUT_S))


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> pathlib.Path:
    """Path of the built HTML (book/_build/html equivalent), built from the current notebooks."""
    out = tmp_path_factory.mktemp("book")
    env = dict(os.environ, BOOK_OUTPUT=str(out), LPGEOM_PROFILE=os.environ.get("LPGEOM_PROFILE", "smoke"))
    proc = subprocess.run(["bash", "scripts/build_book.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    # the build's log, with each notebook's execution time ("Executed notebook in ... seconds")
    (out / "build.log").write_text(proc.stdout + "\n" + proc.stderr)
    failed = re.findall(r"ExecutionError: (\S+)", proc.stdout + proc.stderr)
    assert proc.returncode == 0, (f"book build failed{' executing ' + ', '.join(sorted(set(failed))) if failed else ''} "
                                  f"(log: {out / 'build.log'}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return out / "_build" / "html"


@pytest.fixture(scope="session")
def book_server(built_book):
    """Serve the built book on a free loopback port; yields the base URL."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(built_book))
    handler.log_message = lambda *a, **k: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
