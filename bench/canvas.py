"""How much of a PNG's canvas a picture uses: the share of 100 x 100 px tiles with ink.

Issue 16's measure for exported pictures (bench and tests): a tile counts as inked when more
than 2% of its pixels are darker than light grey; boxes, labels and edges are, blank margins
and the white between far-apart columns are not.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

TILE_PX = 100
# Grey level (0-255) below which a pixel is ink; the lightest fill (#f0f0f0, 240) counts.
INK_BELOW = 245
# Share of a tile's pixels that must be ink.
INKED_SHARE = 0.02


def canvas_use(png: bytes) -> tuple[int, int, float, float]:
    """Width and height in pixels, aspect ratio (long side over short), and the share of tiles
    inked."""
    Image.MAX_IMAGE_PIXELS = None  # our own pictures: up to 7200 x 7200 px
    gray = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    height, width = gray.shape
    tiles = [(gray[y:y + TILE_PX, x:x + TILE_PX] < INK_BELOW).mean() > INKED_SHARE
             for y in range(0, height, TILE_PX) for x in range(0, width, TILE_PX)]
    return width, height, max(width, height) / min(width, height), float(sum(tiles) / len(tiles))
