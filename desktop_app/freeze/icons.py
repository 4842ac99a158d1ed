"""Each system's icon sizes from the one PNG of the table (at least 512 px).

Linux: the freedesktop hicolor theme's sizes, so menus and docks pick a sharp
one. (Windows' .ico and macOS' .icns PyInstaller makes itself from the PNG,
through Pillow, which Gradio already depends on.)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

HICOLOR_SIZES = (512, 256, 128, 64, 48, 32, 16)


def hicolor_icons(source: Path, out: Path, slug: str) -> Path:
    """out/SIZExSIZE/apps/SLUG.png for each size; returns out."""
    from PIL import Image

    if out.exists():
        shutil.rmtree(out)
    with Image.open(source) as image:
        square = _square(image.convert("RGBA"))
        for size in HICOLOR_SIZES:
            folder = out / f"{size}x{size}" / "apps"
            folder.mkdir(parents=True)
            square.resize((size, size), Image.Resampling.LANCZOS).save(folder / f"{slug}.png", "PNG")
    return out


def _square(image: Any) -> Any:
    """A wide or tall icon centred on a transparent square, not stretched."""
    side = max(image.size)
    if image.size == (side, side):
        return image
    from PIL import Image

    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    canvas.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return canvas
