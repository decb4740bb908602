"""The report package on its own: image layouts and grids, the HTML page, figures."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vaelab import PCA
from vaelab.report import ComparedModel, build_comparison_report, build_run_report, figures
from vaelab.report.html import Image as PageImage
from vaelab.report.html import Section, render, write_page
from vaelab.report.images import ImageLayout, arrange, grid_size, image_grid, png_bytes, tile


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((28, 28), (28, 28, 1)),
        ((1, 16, 12), (16, 12, 1)),
        ((3, 32, 32), (32, 32, 3)),
        ((784,), (28, 28, 1)),
        ((64,), (8, 8, 1)),
        ((49,), None),  # 7x7 is too small to be taken for an image
        ((10,), None),
        ((5, 8, 8), None),
    ],
)
def test_image_layout_detection(shape: tuple[int, ...], expected: tuple[int, int, int] | None) -> None:
    layout = ImageLayout.detect(shape)
    assert (None if layout is None else (layout.height, layout.width, layout.channels)) == expected


def test_grids_have_the_announced_size_and_blank_padding() -> None:
    layout = ImageLayout(8, 8, 1)
    x = np.random.default_rng(0).random((5, 64)).astype(np.float32)
    canvas = image_grid(x, layout, cols=3)
    assert canvas.shape == grid_size(layout, rows=2, cols=3) and canvas.dtype == np.uint8
    cell = 8 * layout.scale
    last = canvas[1 + 1 * (cell + 1) : 1 + 2 * (cell + 1) - 1, 1 + 2 * (cell + 1) : 1 + 3 * (cell + 1) - 1]
    assert (last == 128).all()  # the sixth cell is blank (gap grey)
    img = Image.open(io.BytesIO(png_bytes(canvas)))
    assert img.format == "PNG" and img.size == (canvas.shape[1], canvas.shape[0]) and img.mode == "L"


def test_colour_images_and_uint8_scaling() -> None:
    layout = ImageLayout(4, 4, 3)
    x = np.full((2, 3, 4, 4), 255, dtype=np.uint8)
    pics = layout.pictures(x)
    assert pics.shape == (2, 4, 4, 3) and pics.max() == 1.0
    canvas = tile(arrange(pics, 2), layout)
    assert canvas.shape == (*grid_size(layout, 1, 2), 3)
    assert Image.open(io.BytesIO(png_bytes(canvas))).mode == "RGB"


def test_page_escapes_text_and_embeds_images(tmp_path: Path) -> None:
    png = png_bytes(np.zeros((4, 4), dtype=np.uint8))
    section = Section(
        "A <b>",
        ["x < y & z"],
        tables=[(["k"], [[1.23456]])],
        images=[PageImage("a.png", png, "cap")],
        preformatted="<script>",
    )
    html = render("T", "S", [section])
    assert "<b>" not in html.replace("<body>", "") and "x &lt; y &amp; z" in html and "&lt;script&gt;" in html
    assert base64.b64encode(png).decode() in html and "1.235" in html
    path = write_page(tmp_path / "r", "T", "S", [section])
    assert (tmp_path / "r" / "a.png").read_bytes() == png and path.read_text() == (
        tmp_path / "r" / "report.html"
    ).read_text()
    with pytest.raises(FileExistsError, match="--force"):
        write_page(tmp_path / "r", "T", "S", [section])


def test_training_curves_size() -> None:
    history = [
        {"epoch": e, "train_loss": 1.0 / e, "valid_loss": 1.1 / e, "train_kl": 0.1, "seconds": 1.0} for e in (1, 2)
    ]
    assert figures.loss_terms(history) == ["loss", "kl"]
    img = Image.open(io.BytesIO(figures.training_curves(history)))
    assert img.size == (800, 320)


def test_reports_of_a_model_on_vector_data(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(60, 6)).astype(np.float32)
    pca = PCA(latent_dim=2).fit(x)
    path = build_run_report(pca, x, np.arange(60) % 3, out_dir=tmp_path / "one", title="t", metrics={"mse": 0.5})
    html = path.read_text()
    assert "the model&#x27;s own 2-D latent space" in html and "Skipped: the examples are not images" in html
    assert {p.name for p in (tmp_path / "one").glob("*.png")} == {"reconstructions.png", "latent_scatter.png"}
    assert "Attribute vectors" in html and "<td>0 -&gt; 1</td><td class=\"num\">20</td><td class=\"num\">20</td>" in html
    compared = [ComparedModel("a", pca, {"mse": 0.5}), ComparedModel("b", PCA(latent_dim=3).fit(x), {"mse": 0.4})]
    html = build_comparison_report(compared, x, out_dir=tmp_path / "cmp").read_text()
    assert "<td>a</td>" in html and "<td>b</td>" in html and "no prior to sample from" in html
    with pytest.raises(ValueError, match="different shapes"):
        build_comparison_report(
            [compared[0], ComparedModel("c", PCA(latent_dim=2).fit(x[:, :4]))], x, out_dir=tmp_path / "bad"
        )
