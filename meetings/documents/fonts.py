"""Unicode fonts for generated PDFs and signature stamps (docs/features/documents.md, "Watermark";
docs/features/signing.md, "Signing").

Fonts come from PyPI packages, so a bare machine renders Vietnamese without system fonts.
"""

from __future__ import annotations

from pathlib import Path

import fontpkg_be_vietnam_pro
import fontpkg_noto_serif


def sans_font(style: str = "Regular") -> Path:
    """Be Vietnam Pro, a static TrueType face: `Regular`, `Bold`, `Italic`, `SemiBold`, ..."""
    path = Path(fontpkg_be_vietnam_pro.ROOT) / "files" / f"BeVietnamPro-{style}.ttf"
    if not path.is_file():
        raise FileNotFoundError(f"font style {style!r} is not shipped by fontpkg-be-vietnam-pro")
    return path


def serif_font(italic: bool = False) -> Path:
    """Noto Serif, a variable TrueType face (axes wdth and wght) for official-looking text."""
    name = "NotoSerif-Italic[wdth,wght].ttf" if italic else "NotoSerif[wdth,wght].ttf"
    return Path(fontpkg_noto_serif.ROOT) / "files" / name
