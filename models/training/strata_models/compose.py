"""Chain the generators into scenes the way the server does: x0 = Gbg(z, style), x_t = Gfg(x_{t-1}, mask_t, c_t, z_t)."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from . import world as W

Box = Tuple[float, float, float, float]


def shape_to_canvas(shape: torch.Tensor, boxes: torch.Tensor, res: int) -> torch.Tensor:
    """Fit object-centred masks [B,1,M,M] (probabilities) into normalised boxes (x0,y0,w,h): binary [B,1,R,R]."""
    B = shape.shape[0]
    c = (torch.arange(res, dtype=torch.float32) + 0.5) / res
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    x0, y0, w, h = (boxes[:, i].view(B, 1, 1) for i in range(4))
    u = (xx[None] - x0) / w * 2 - 1
    v = (yy[None] - y0) / h * 2 - 1
    g = torch.stack([u, v], -1)
    m = F.grid_sample(shape, g, mode="bilinear", padding_mode="zeros", align_corners=False)
    return (m > 0.5).float()


def to_np_uint8(img: torch.Tensor) -> np.ndarray:
    """[-1,1] [B,3,H,W] -> uint8 [B,H,W,3]."""
    return ((img.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def from_np_uint8(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(0, 3, 1, 2).float() / 127.5 - 1


@torch.no_grad()
def compose(gens: Dict[str, torch.nn.Module], style: Sequence[int], z_bg: torch.Tensor,
            layers: List[Tuple[Sequence[int], torch.Tensor, torch.Tensor, torch.Tensor]],
            masks: Optional[List[torch.Tensor]] = None) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
    """Compose a batch of scenes.  ``layers``: per step (categories [B], boxes [B,4], z_shape [B,Zs], z_fg [B,Zf]).

    If ``masks`` is given (per step [B,1,R,R]) those masks are used instead of the shape generator.
    Returns the canvases x0..xT and the masks used.
    """
    C, S = len(W.CATEGORIES), len(W.STYLES)
    R = gens["foreground"].res
    x = gens["background"](z_bg, F.one_hot(torch.as_tensor(style), S).float())
    canv, used = [x], []
    for t, (cats, boxes, zs, zf) in enumerate(layers):
        oh = F.one_hot(torch.as_tensor(cats), C).float()
        if masks is not None:
            m = masks[t]
        else:
            m = shape_to_canvas(gens["shape"](oh, zs), boxes, R)
        x = gens["foreground"](x, m, oh, zf)
        canv.append(x)
        used.append(m)
    return canv, used
