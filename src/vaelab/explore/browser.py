"""Driving the explorer page in a real Chromium, for the browser test, the README screenshot and the benchmark.

Playwright for Python drives the system's Chromium (Debian's ``chromium``
package, ``/usr/bin/chromium``); Playwright's own browser download is never
used. Each launch gets a fresh profile folder and no network extras.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("VAELAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing() -> str | None:
    """Why the page cannot be driven here (Playwright or Chromium absent), or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright; never `playwright install`)"
    if not CHROMIUM.is_file() and shutil.which(str(CHROMIUM)) is None:
        return f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
    return None


@contextmanager
def chromium_page(profile: Path, *, width: int = 1280, height: int = 1100) -> Iterator[Any]:
    """A Playwright page in a headless system Chromium with a fresh profile folder ``profile``."""
    from playwright.sync_api import sync_playwright

    profile.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            context.close()


def wait_ready(page: Any) -> float:
    """Wait until the page built itself and showed its first output; returns its time to interactive in ms."""
    page.wait_for_selector('body[data-ready="1"]')
    return float(page.evaluate("window.vaelabReadyAt"))


def output_version(page: Any) -> int:
    """How many outputs the page has shown so far."""
    return int(page.get_attribute("#output", "data-version") or 0)


def wait_new_output(page: Any, after: int) -> None:
    """Wait until the page shows an output newer than version ``after``."""
    page.wait_for_function(f"Number(document.getElementById('output').dataset.version) > {after}")
