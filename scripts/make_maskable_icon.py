"""Render static/icons/icon-maskable-512.png from icon-512.png (run again after changing the icon).

A maskable icon fills its whole square: a phone cuts it to a circle or a rounded
square of its own, keeping the inner 80 %. The drawing is therefore shrunk to
that safe zone on the icon's own blue background.
"""

from pathlib import Path

from PIL import Image

ICONS = Path(__file__).resolve().parents[1] / "static" / "icons"
SIZE = 512
SAFE_ZONE = 0.8
BRAND = (0, 52, 122, 255)  # #00347a, the background of icon.svg


def main() -> None:
    drawing = Image.open(ICONS / "icon-512.png").convert("RGBA")
    inner = round(SIZE * SAFE_ZONE)
    drawing = drawing.resize((inner, inner), Image.Resampling.LANCZOS)
    icon = Image.new("RGBA", (SIZE, SIZE), BRAND)
    offset = (SIZE - inner) // 2
    icon.alpha_composite(drawing, (offset, offset))
    icon.convert("RGB").save(ICONS / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
