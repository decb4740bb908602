"""Make the README's screenshot of ``vaelab explore`` (docs/explore.png) with the browser test's helpers.

It fits a small VAE on 6,000 MNIST training images (or takes a run folder),
serves the explorer on a free loopback port, drives the page in headless
Chromium (Playwright, the system's /usr/bin/chromium): loads a test example,
runs a slerp interpolation, sets the attribute strength, and saves the
screenshot as a palette PNG.

    python scripts/explore_screenshot.py --out docs/explore.png
    python scripts/explore_screenshot.py runs/mnist-vae --out docs/explore.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def explorer_for(run: str | None, data_dir: Path):  # type: ignore[no-untyped-def]
    from vaelab import VAE
    from vaelab.data import load_mnist
    from vaelab.explore.session import Explorer

    if run is not None:
        from vaelab.runs.loaded import LoadedRun
        from vaelab.runs.data import load_run_data, pick_split

        loaded = LoadedRun.open(Path(run))
        dataset = load_run_data(loaded.config)
        return Explorer(loaded.estimator, *pick_split(dataset, "test"), *pick_split(dataset, "train"), max_test=1000)
    x_train, y_train = load_mnist(data_dir / "mnist", split="train")
    x_test, y_test = load_mnist(data_dir / "mnist", split="test")
    x, y = x_train[:6000], y_train[:6000]
    vae = VAE(
        latent_dim=8,
        network={"kind": "mlp", "hidden_dims": [256]},
        epochs=8,
        batch_size=128,
        device="cpu",
        seed=0,
        validation_fraction=0.0,
    ).fit(x.astype("float32") / 255.0)
    return Explorer(vae, x_test, y_test, x, y, max_test=1000)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", nargs="?", help="a run folder (default: fit a small VAE on MNIST)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "explore.png")
    p.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("VAELAB_DATA", ROOT.parent / "shared" / "data"))
    )
    args = p.parse_args()
    import torch
    from PIL import Image

    from vaelab.explore import browser
    from vaelab.explore.app import create_app
    from vaelab.explore.server import running

    if browser.missing():
        raise SystemExit(f"error: {browser.missing()}")
    torch.set_num_threads(1)
    explorer = explorer_for(args.run, args.data_dir)
    with running(create_app(explorer, title="vaelab explore: mnist-vae")) as url, tempfile.TemporaryDirectory() as tmp:
        with browser.chromium_page(Path(tmp) / "profile", width=1200, height=1040) as page:
            page.goto(url)
            browser.wait_ready(page)
            page.fill("#index", "0")
            page.click("#encode")
            page.wait_for_selector('body[data-encoded="0"]')
            page.fill("#interp-start", "3")
            page.fill("#interp-end", "7")
            page.select_option("#interp-method", "slerp")
            page.click("#interp-run")
            page.wait_for_selector('#strip[data-count="9"]')
            page.fill("#index", "1")
            page.click("#encode")
            page.wait_for_selector('body[data-encoded="1"]')
            page.select_option("#attr-source", "2")
            page.select_option("#attr-target", "7")
            version = browser.output_version(page)
            page.locator("#attr-strength").focus()
            for _ in range(14):  # 0.7
                page.keyboard.press("ArrowRight")
            browser.wait_new_output(page, version)
            page.wait_for_selector('#neighbours[data-count="6"]')
            page.wait_for_timeout(500)
            shot = Path(tmp) / "shot.png"
            page.screenshot(path=str(shot))
        image = Image.open(shot).convert("RGB").quantize(colors=128)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        image.save(args.out, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
