"""The v2 crop engine: what the server does around the object-centric foreground generator.

Geometry (all coordinates normalised to [0, 1] over the canvas, x right, y down; pixel i's centre is (i + 0.5) / N):
  * box b = (x0, y0, w, h) is the object's box on the canvas.
  * crop window = the box grown by MARGIN (1/6) of its width on the left and right and of its height on
    top and bottom: (x0 - m w, y0 - m h, w (1 + 2m), h (1 + 2m)).  It is resampled to CROP x CROP (64) pixels,
    so the box always covers the central CROP_BOX x CROP_BOX (48) pixels, whatever its size or aspect.
  * crop in:  crop[i, j] = bilinear(canvas, x = wx + ww (j + 0.5) / CROP, y = wy + wh (i + 0.5) / CROP), with
    torch.grid_sample semantics (align_corners=False, padding_mode="border": outside the canvas the edge
    pixel is repeated).
  * mask in the crop: the object-centred shape mask (probabilities, M x M) fitted into the crop box
    (crop_box(): the central 48 px) with ``fit_mask`` (bilinear, zeros outside, threshold 0.5); on the canvas the
    same shape fitted into b: the canvas mask.
  * the generator paints the crop and composites inside its graph (pixels outside the 5x5-dilated crop mask are
    the input crop exactly).
  * paste back: for each canvas pixel, sample the output crop bilinearly at its position in the window (border
    padding) and keep it only where the canvas mask dilated by DILATION (a 5x5 max-pool) is set:
    ``canvas' = where(dilate(mask_canvas) > 0.5, sample(crop_out), canvas)``.  Every pixel outside the dilated
    canvas mask is the previous canvas bit for bit, and the result depends only on the crop window's pixels.

Lighting code (LIGHT_DIM = 9), computed from the background image x0 only (never from the current canvas, so an
edit of another object never changes it): ``[style one-hot (3), mean RGB of x0's top half rows (3), mean RGB of
x0's bottom half rows (3)]`` with x0 in [-1, 1] as the background generator outputs it (float, before any
quantisation), rows [0, R/2) and [R/2, R).  The v2 background ONNX outputs it as a second tensor ``light``.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import torch
import torch.nn.functional as F

from . import world as W

LIGHT_DIM = 9


def light_code(bg: torch.Tensor, style_onehot: torch.Tensor) -> torch.Tensor:
    """[B,3,R,R] in [-1,1], [B,S] -> [B, 9]."""
    half = bg.shape[2] // 2
    return torch.cat([style_onehot, bg[:, :, :half].mean(dim=(2, 3)), bg[:, :, half:].mean(dim=(2, 3))], 1)


def crop_window(boxes: torch.Tensor, margin: float = W.MARGIN) -> torch.Tensor:
    """[B,4] boxes (x0,y0,w,h) -> [B,4] windows."""
    x0, y0, w, h = boxes.unbind(1)
    return torch.stack([x0 - margin * w, y0 - margin * h, w * (1 + 2 * margin), h * (1 + 2 * margin)], 1)


def _grid_for(win: torch.Tensor, size: int) -> torch.Tensor:
    """Sampling grid (grid_sample coordinates over the canvas) for crop pixels of windows [B,4]."""
    B = win.shape[0]
    c = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    wx, wy, ww, wh = (win[:, i].view(B, 1, 1) for i in range(4))
    gx = (wx + ww * c.view(1, 1, size)).expand(B, size, size)
    gy = (wy + wh * c.view(1, size, 1)).expand(B, size, size)
    return torch.stack([gx * 2 - 1, gy * 2 - 1], -1)


def crop_in(canvas: torch.Tensor, boxes: torch.Tensor, size: int = W.CROP) -> torch.Tensor:
    """Resample each box's crop window of the canvas [B,C,R,R] to [B,C,size,size]."""
    g = _grid_for(crop_window(boxes), size)
    return F.grid_sample(canvas, g, mode="bilinear", padding_mode="border", align_corners=False)


def fit_mask(shape: torch.Tensor, boxes: torch.Tensor, res: int) -> torch.Tensor:
    """Object-centred masks [B,1,M,M] (probabilities) into normalised boxes of a res x res frame: binary [B,1,res,res]."""
    B = shape.shape[0]
    c = (torch.arange(res, dtype=torch.float32) + 0.5) / res
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    x0, y0, w, h = (boxes[:, i].view(B, 1, 1) for i in range(4))
    g = torch.stack([(xx[None] - x0) / w * 2 - 1, (yy[None] - y0) / h * 2 - 1], -1)
    m = F.grid_sample(shape, g, mode="bilinear", padding_mode="zeros", align_corners=False)
    return (m > 0.5).float()


def crop_mask(shape: torch.Tensor, size: int = W.CROP) -> torch.Tensor:
    B = shape.shape[0]
    return fit_mask(shape, torch.tensor([W.crop_box(size)], dtype=torch.float32).expand(B, 4), size)


def dilate(mask: torch.Tensor, d: int = W.DILATION) -> torch.Tensor:
    return F.max_pool2d(mask, 2 * d + 1, 1, d)


def paste(canvas: torch.Tensor, crop_out: torch.Tensor, boxes: torch.Tensor, mask_canvas: torch.Tensor,
          d: int = W.DILATION) -> torch.Tensor:
    """Resample the painted crops back into the canvas inside the dilated canvas mask only."""
    R = canvas.shape[2]
    win = crop_window(boxes)
    B = canvas.shape[0]
    c = (torch.arange(R, dtype=torch.float32) + 0.5) / R
    wx, wy, ww, wh = (win[:, i].view(B, 1, 1) for i in range(4))
    u = ((c.view(1, 1, R) - wx) / ww).expand(B, R, R)
    v = ((c.view(1, R, 1) - wy) / wh).expand(B, R, R)
    s = F.grid_sample(crop_out, torch.stack([u * 2 - 1, v * 2 - 1], -1), mode="bilinear", padding_mode="border",
                      align_corners=False)
    return torch.where(dilate(mask_canvas, d) > 0.5, s, canvas)


def onehot(idx: Sequence[int], n: int) -> torch.Tensor:
    return F.one_hot(torch.as_tensor(idx, dtype=torch.int64), n).float()


@torch.no_grad()
def compose(gens, style: Sequence[int], z_bg: torch.Tensor, layers, masks=None, return_crops: bool = False,
            crop: int = W.CROP):
    """Compose scenes with the v2 generators (torch modules or ONNX wrappers with the same call signature).

    gens: {"background": f(z, style) -> image, "foreground": f(crop, mask, category, z, light) -> crop,
           "shape": f(category, z) -> mask}.  layers: per step (categories [B], boxes [B,4], z_shape, z_fg).
    masks: optional per step (object-centred shape probabilities [B,1,M,M]) instead of the shape generator.
    Returns (canvases x0..xT, canvas masks used[, crops]).
    """
    C, S = len(W.CATEGORIES), len(W.STYLES)
    st = onehot(style, S)
    x = gens["background"](z_bg, st)
    light = light_code(x, st)
    R = x.shape[2]
    canv, used, crops = [x], [], []
    for t, (cats, boxes, zs, zf) in enumerate(layers):
        oh = onehot(cats, C)
        shp = masks[t] if masks is not None else gens["shape"](oh, zs)
        mc = fit_mask(shp, boxes, R)
        mk = crop_mask(shp, crop)
        cin = crop_in(x, boxes, crop)
        cout = gens["foreground"](cin, mk, oh, zf, light)
        x = paste(x, cout, boxes, mc)
        canv.append(x)
        used.append(mc)
        crops.append((cin, mk, cout))
    return (canv, used, crops) if return_crops else (canv, used)
