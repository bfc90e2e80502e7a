"""The widgets' static pictures (``_pictures.stack``) are glued as pixels and encoded as
they are, without drawing: they must be exactly what drawing the figure gives."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from tcpsim.widgets._pictures import figure_pixels, figure_png, png_pixels, stack


def picture(h, w, colour, alpha=255):
    pixels = np.zeros((h, w, 4), dtype=np.uint8)
    pixels[..., :3] = colour
    pixels[..., 3] = alpha
    return pixels


def test_stacked_pixels_are_what_agg_draws():
    rows = [[picture(30, 200, (10, 20, 30))],
            [picture(50, 80, (200, 0, 0)), picture(20, 60, (0, 200, 0), alpha=128)],
            [None, picture(40, 120, (0, 0, 250), alpha=0)]]
    fig = stack(rows)
    assert isinstance(fig, Figure)
    glued = png_pixels(figure_png(fig))
    assert glued.shape == (30 + 50 + 40, 200, 4)
    assert np.array_equal(glued, figure_pixels(fig))      # what drawing the figure gives


def test_pictures_sit_at_the_top_left_of_their_row_on_white():
    glued = png_pixels(figure_png(stack([[picture(10, 10, (0, 0, 0))],
                                         [picture(4, 6, (255, 0, 0)), picture(8, 3, (0, 0, 255))]])))
    assert glued.shape == (18, 10, 4)
    assert (glued[:10, :10, :3] == 0).all()
    assert (glued[10:14, :6] == (255, 0, 0, 255)).all()
    assert (glued[14:18, :6] == 255).all()                # below the short picture: white
    assert (glued[10:18, 6:9] == (0, 0, 255, 255)).all()
    assert (glued[10:18, 9:] == 255).all()                # right of the row: white
