"""v2 networks (small, for CPU training).

BackgroundG2  (z, style) -> x0 [B,3,R,R]; FiLM blocks from 4x4 with two coordinate channels at every scale
              (positions of sun, moon, horizon and water are easier to place crisply).
ForegroundG2  the object-centric generator: (crop [B,3,K,K], mask [B,1,K,K], category [B,C], z [B,Zf],
              light [B,9]) -> crop [B,3,K,K].  U-Net over the crop, the mask, the mask written into its
              category's channel and two coordinate channels; the decoder is FiLM-conditioned on
              (z, category, light).  It predicts the colours inside the mask and a darkening factor for the
              dilation band (contact shadow), and composites inside the graph:
              ``where(maxpool_{2d+1}(mask) > 0.5, generated, crop)``.
ShapeG        v1's shape generator, at 64x64 for v2.
BaselineG     the single-shot baseline: (semantic map [B,C,R,R] one channel per category, z [B,Zb],
              style [B,S]) -> image [B,3,R,R]; a U-Net over the map + coordinates, FiLM from (z, style).
"""
from __future__ import annotations

from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..nets import FiLMBlock, PatchD, ShapeG, _levels, _norm, count_params  # noqa: F401


def coords(x: torch.Tensor) -> torch.Tensor:
    """Two channels with the pixel centres' x and y in [-1, 1], shaped like x's batch and size."""
    B, _, H, Wd = x.shape
    cy = (torch.arange(H, dtype=x.dtype) + 0.5) / H * 2 - 1
    cx = (torch.arange(Wd, dtype=x.dtype) + 0.5) / Wd * 2 - 1
    yy = cy.view(1, 1, H, 1).expand(B, 1, H, Wd)
    xx = cx.view(1, 1, 1, Wd).expand(B, 1, H, Wd)
    return torch.cat([xx, yy], 1)


class BackgroundG2(nn.Module):
    def __init__(self, res: int = 128, nz: int = 32, ns: int = 3, width: int = 16, cap: int = 160) -> None:
        super().__init__()
        self.res, self.nz, self.ns = res, nz, ns
        n = _levels(res, 4)
        chans = [min(width * 2 ** (n - i), cap) for i in range(n + 1)]
        cond = 128
        self.embed = nn.Sequential(nn.Linear(nz + ns, cond), nn.LeakyReLU(0.2), nn.Linear(cond, cond), nn.LeakyReLU(0.2))
        self.fc = nn.Linear(cond, chans[0] * 16)
        self.c0 = chans[0]
        self.blocks = nn.ModuleList(FiLMBlock(chans[i] + 2, chans[i + 1], cond) for i in range(n))
        self.out = nn.Conv2d(chans[-1] + 2, 3, 3, padding=1)

    def forward(self, z: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        c = self.embed(torch.cat([z, style], 1))
        x = F.leaky_relu(self.fc(c), 0.2).view(-1, self.c0, 4, 4)
        for b in self.blocks:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = b(torch.cat([x, coords(x)], 1), c)
        return torch.tanh(self.out(torch.cat([x, coords(x)], 1)))


class UNet(nn.Module):
    """Encoder-decoder with skips; FiLM-conditioned decoder and bottleneck."""

    def __init__(self, cin: int, cout: int, res: int, cond_in: int, width: int, cap: int, bottom: int = 4) -> None:
        super().__init__()
        n = _levels(res, bottom)
        enc = [min(width * 2 ** i, cap) for i in range(n + 1)]
        cond = 128
        self.embed = nn.Sequential(nn.Linear(cond_in, cond), nn.LeakyReLU(0.2), nn.Linear(cond, cond), nn.LeakyReLU(0.2))
        self.inp = nn.Conv2d(cin + 2, enc[0], 3, padding=1)
        self.down = nn.ModuleList()
        for i in range(n):
            self.down.append(nn.Sequential(nn.Conv2d(enc[i], enc[i + 1], 4, stride=2, padding=1), _norm(enc[i + 1]), nn.LeakyReLU(0.2),
                                           nn.Conv2d(enc[i + 1], enc[i + 1], 3, padding=1), _norm(enc[i + 1]), nn.LeakyReLU(0.2)))
        self.mid = FiLMBlock(enc[n] + cond, enc[n], cond)
        self.up = nn.ModuleList(FiLMBlock(enc[i] + enc[i - 1], enc[i - 1], cond) for i in range(n, 0, -1))
        self.out = nn.Conv2d(enc[0], cout, 3, padding=1)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        c = self.embed(cond)
        h = F.leaky_relu(self.inp(torch.cat([x, coords(x)], 1)), 0.2)
        skips: List[torch.Tensor] = [h]
        for d in self.down:
            h = d(h)
            skips.append(h)
        h = skips.pop()
        h = self.mid(torch.cat([h, c[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])], 1), c)
        for u in self.up:
            s = skips.pop()
            h = u(torch.cat([F.interpolate(h, scale_factor=2.0, mode="nearest"), s], 1), c)
        return self.out(h)


class ForegroundG2(nn.Module):
    def __init__(self, crop: int = 64, nz: int = 32, nc: int = 8, nlight: int = 9, width: int = 32, cap: int = 160,
                 dilation: int = 2) -> None:
        super().__init__()
        self.crop, self.nz, self.nc, self.nlight, self.dilation = crop, nz, nc, nlight, dilation
        self.net = UNet(4 + nc, 4, crop, nz + nc + nlight, width, cap)
        with torch.no_grad():
            self.net.out.bias[3] = -3.0  # start with (almost) no shadow

    def generate(self, crop: torch.Tensor, mask: torch.Tensor, category: torch.Tensor, z: torch.Tensor,
                 light: torch.Tensor) -> torch.Tensor:
        x = torch.cat([crop, mask, mask * category[:, :, None, None]], 1)
        o = self.net(x, torch.cat([z, category, light], 1))
        rgb = torch.tanh(o[:, :3])
        shade = 1 - torch.sigmoid(o[:, 3:4])
        return torch.where(mask > 0.5, rgb, (crop + 1) * shade - 1)

    def forward(self, crop: torch.Tensor, mask: torch.Tensor, category: torch.Tensor, z: torch.Tensor,
                light: torch.Tensor) -> torch.Tensor:
        g = self.generate(crop, mask, category, z, light)
        dil = F.max_pool2d(mask, kernel_size=2 * self.dilation + 1, stride=1, padding=self.dilation)
        return torch.where(dil > 0.5, g, crop)


class BaselineG(nn.Module):
    def __init__(self, res: int = 128, nz: int = 32, nc: int = 8, ns: int = 3, width: int = 16, cap: int = 128) -> None:
        super().__init__()
        self.res, self.nz, self.nc, self.ns = res, nz, nc, ns
        self.net = UNet(nc, 3, res, nz + ns, width, cap, bottom=8)

    def forward(self, layout: torch.Tensor, z: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(layout, torch.cat([z, style], 1)))


def layout_map(labels: torch.Tensor, nc: int) -> torch.Tensor:
    """uint8/long labels [B,R,R] (0 = none, c + 1 = category c) -> one channel per category [B,C,R,R]."""
    oh = F.one_hot(labels.long(), nc + 1).permute(0, 3, 1, 2).float()
    return oh[:, 1:]
