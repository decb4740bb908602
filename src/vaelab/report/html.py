"""A self-contained HTML page of sections, text, tables and images.

Every image is embedded as a base64 ``data:`` URI, so the page opens anywhere
on its own (mail it, attach it to an issue); the same PNGs are also written
beside it. All text is HTML-escaped here; callers pass plain strings.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaelab._version import __version__
from vaelab.serialization import atomic_directory, atomic_write_bytes, atomic_write_text

STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.2rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; image-rendering: pixelated; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.8rem 0; } th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; }
th { background: #f5f5f5; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem; }
.note { color: #666; font-style: italic; } nav a { margin-right: 0.8rem; } .scroll { overflow-x: auto; }
"""


@dataclass(frozen=True)
class Image:
    """A PNG shown in the page and written beside it as ``filename``."""

    filename: str
    png: bytes
    caption: str = ""


@dataclass
class Section:
    """A titled part of the page: paragraphs, then tables, images and preformatted text."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[Any]]]] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    preformatted: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")


def format_value(value: Any) -> str:
    """Numbers to 4 significant digits, lists shortened, None as an em dash."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(format_value(v) for v in value[:8])
        return f"[{shown}{', ...' if len(value) > 8 else ''}] ({len(value)} values)"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for value in row:
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            attr = ' class="num"' if numeric else ""
            cells.append(f"<td{attr}>{html.escape(format_value(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _image(image: Image) -> str:
    data = base64.b64encode(image.png).decode("ascii")
    caption = f"<figcaption>{html.escape(image.caption)}</figcaption>" if image.caption else ""
    alt = html.escape(image.caption or image.filename, quote=True)
    name = html.escape(image.filename, quote=True)
    return f'<figure><img src="data:image/png;base64,{data}" alt="{alt}" data-file="{name}">{caption}</figure>'


def render(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole page as one HTML string."""
    parts = [f"<h1>{html.escape(title)}</h1>", f'<p class="sub">{html.escape(subtitle)}</p>']
    parts.append("<nav>" + "".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections) + "</nav>")
    for s in sections:
        parts.append(f'<h2 id="{s.anchor}">{html.escape(s.title)}</h2>')
        parts += [f"<p>{html.escape(p)}</p>" for p in s.paragraphs]
        parts += [_table(header, rows) for header, rows in s.tables]
        parts += [_image(image) for image in s.images]
        parts += [f'<p class="note">{html.escape(n)}</p>' for n in s.notes]
        if s.preformatted:
            parts.append(f"<pre>{html.escape(s.preformatted)}</pre>")
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts.append(f'<p class="sub">Written by vaelab {html.escape(__version__)} on {stamp}.</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )


def write_page(
    out_dir: str | Path,
    title: str,
    subtitle: str,
    sections: Sequence[Section],
    *,
    filename: str = "report.html",
    overwrite: bool = False,
) -> Path:
    """Write the page and its PNGs into the folder ``out_dir``; returns the HTML file's path.

    The folder is built beside its target and renamed into place, so a
    failure leaves no half-written report (and an earlier one intact).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir} already exists; pass --force to rebuild the report or choose another --out")
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        for s in sections:
            for image in s.images:
                atomic_write_bytes(tmp / image.filename, image.png)
        atomic_write_text(tmp / filename, render(title, subtitle, sections))
    return out_dir / filename


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with aligned columns (numbers to 4 significant digits).

    >>> print(format_table(["model", "mse"], [["pca", 0.023771], ["vae", 0.0125]]))
    model  mse
    -----  -------
    pca    0.02377
    vae    0.0125
    """
    cells = [[str(h) for h in header]] + [[format_value(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
