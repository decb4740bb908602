"""The explorer page in a real browser: Debian's Chromium driven by Playwright for Python.

The server runs on a free loopback port with a tiny VAE fitted here. The test
moves a slider, runs an interpolation and scrubs it, clicks the latent map,
drags the attribute strength, and saves screenshots under its tmp_path.
Without Playwright or Chromium the tests skip, except in CI (CI=true), where
they fail: .ci/run installs Chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

if os.environ.get("CI") != "true":  # in CI a missing extra is an error, not a skip
    pytest.importorskip("fastapi", reason="the explore extra (fastapi) is not installed")

from vaelab import PCA, VAE  # noqa: E402
from vaelab.explore import browser  # noqa: E402
from vaelab.explore.app import create_app  # noqa: E402
from vaelab.explore.server import running  # noqa: E402
from vaelab.explore.session import Explorer  # noqa: E402


def require_browser() -> None:
    why = browser.missing()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests must run in CI: {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    require_browser()
    from vaelab.data import load_digits

    x, y = load_digits()
    x = x[:400].astype(np.float32) / 16.0
    vae = VAE(
        latent_dim=4, epochs=2, network={"kind": "mlp", "hidden_dims": [32]}, likelihood="gaussian", device="cpu"
    ).fit(x[:300])
    explorer = Explorer(vae, x[300:], y[300:400], x[:300], y[:300])
    with running(create_app(explorer, title="vaelab explore: test")) as url:
        yield url, explorer


def test_the_page_in_chromium(page_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, explorer = page_url
    with browser.chromium_page(tmp_path / "profile") as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(url)
        assert browser.wait_ready(page) > 0
        assert page.locator("#sliders input[type=range]").count() == 4
        page.wait_for_selector('#neighbours[data-count="6"]')
        page.screenshot(path=str(tmp_path / "1-loaded.png"), full_page=True)

        # a slider: the decoded image changes
        before_src, version = page.get_attribute("#output", "src"), browser.output_version(page)
        first = page.locator("#sliders input[type=range]").first
        first.focus()
        page.keyboard.press("End")  # the slider's maximum: +3 prior standard deviations
        browser.wait_new_output(page, version)
        page.wait_for_function("!document.getElementById('status').textContent")
        assert page.get_attribute("#output", "src") != before_src
        top = explorer.ranking.order[0]
        assert np.isclose(page.evaluate("window.vaelab.code")[top], 3.0)
        page.screenshot(path=str(tmp_path / "2-slider.png"), full_page=True)

        # an interpolation, then scrubbing along it
        page.fill("#interp-start", "2")
        page.fill("#interp-end", "5")
        page.select_option("#interp-method", "slerp")
        page.click("#interp-run")
        page.wait_for_selector('#strip[data-count="9"]')
        assert page.locator("#strip img").count() == 9
        code = np.asarray(page.evaluate("window.vaelab.code"))
        assert np.allclose(code, explorer.z_test[2], atol=1e-6)  # scrubbed to the start
        page.locator("#scrub").focus()
        page.keyboard.press("End")
        assert np.allclose(page.evaluate("window.vaelab.code"), explorer.z_test[5], atol=1e-6)
        page.screenshot(path=str(tmp_path / "3-interpolation.png"), full_page=True)

        # a click on the latent map loads that point's code
        target = 17
        x_px, y_px = page.evaluate(f"window.vaelab.mapPixels[{target}]")
        box = page.locator("#map").bounding_box()
        scale = box["width"] / 360
        page.mouse.click(box["x"] + x_px * scale, box["y"] + y_px * scale)
        page.wait_for_selector("body[data-encoded]")
        clicked = int(page.get_attribute("body", "data-encoded"))
        picked = np.asarray(page.evaluate("window.vaelab.map.points"))[clicked]
        assert np.allclose(
            picked, page.evaluate(f"window.vaelab.map.points[{target}]"), atol=1e-9
        )  # that point (or one on it)
        assert np.allclose(page.evaluate("window.vaelab.code"), explorer.z_test[clicked], atol=1e-6)
        page.screenshot(path=str(tmp_path / "4-map.png"), full_page=True)

        # the attribute panel: class 0 -> 1 at strength 2
        assert page.is_visible("#attribute")
        version = browser.output_version(page)
        before = np.asarray(page.evaluate("window.vaelab.code"))
        page.locator("#attr-strength").focus()
        page.keyboard.press("End")
        browser.wait_new_output(page, version)
        page.wait_for_function("document.getElementById('attr-value').textContent === '2.00'")
        page.wait_for_function("document.getElementById('attr-info').textContent.includes('|vector|')")
        vector = explorer.attribute_vector("0", "1").vector
        page.wait_for_function(f"Math.abs(window.vaelab.code[0] - {before[0] + 2 * vector[0]}) < 1e-6")
        assert np.allclose(page.evaluate("window.vaelab.code"), before + 2 * vector, atol=1e-6)
        page.screenshot(path=str(tmp_path / "5-attribute.png"), full_page=True)
        assert errors == []
    assert all((tmp_path / f).stat().st_size > 1000 for f in ("1-loaded.png", "3-interpolation.png", "4-map.png"))


def test_a_model_of_table_rows_shows_the_decoded_row_with_column_names(tmp_path: Path) -> None:
    require_browser()
    x = np.random.default_rng(0).normal(size=(120, 4)) * [3.0, 2.0, 1.0, 0.5]
    columns = ["age", "income", "hours", "score"]
    explorer = Explorer(PCA(latent_dim=2).fit(x), x[100:], None, x[:100], columns=columns)
    with running(create_app(explorer)) as url, browser.chromium_page(tmp_path / "profile") as page:
        page.goto(url)
        browser.wait_ready(page)
        assert page.is_hidden("#output-box") and page.is_hidden("#attribute")
        headers = page.locator("#output-table tr th:first-child").all_inner_texts()
        assert headers == ["column", *columns]
        before = page.locator("#output-table td").all_inner_texts()
        version = browser.output_version(page)
        page.locator("#sliders input[type=range]").first.focus()
        page.keyboard.press("End")
        browser.wait_new_output(page, version)
        after = [float(v) for v in page.locator("#output-table td").all_inner_texts()]
        code = np.asarray(page.evaluate("window.vaelab.code"))
        assert after != [float(v) for v in before]
        assert np.allclose(after, explorer.estimator.inverse_transform(code[None])[0], atol=1e-4)
        page.screenshot(path=str(tmp_path / "table.png"), full_page=True)
