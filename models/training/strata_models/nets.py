"""Generators and discriminators (small, for CPU training).

All generators take the resolution as a parameter (a power of two >= 16).
The foreground generator composites inside the graph:
``image = where(maxpool(mask, 2d+1) > 0.5, generated, canvas)``.
"""
from __future__ import annotations

import math
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, ch), ch)


class FiLMBlock(nn.Module):
    """conv-norm-FiLM-act twice."""

    def __init__(self, cin: int, cout: int, cond: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.n1 = _norm(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.n2 = _norm(cout)
        self.film = nn.Linear(cond, 4 * cout)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        g1, b1, g2, b2 = self.film(c)[:, :, None, None].chunk(4, dim=1)
        x = F.leaky_relu(self.n1(self.c1(x)) * (1 + g1) + b1, 0.2)
        x = F.leaky_relu(self.n2(self.c2(x)) * (1 + g2) + b2, 0.2)
        return x


def _levels(res: int, base: int) -> int:
    n = int(round(math.log2(res / base)))
    assert base * 2 ** n == res, f"resolution {res} must be {base} * 2^k"
    return n


class BackgroundG(nn.Module):
    """(z, style one-hot) -> image [-1, 1]."""

    def __init__(self, res: int = 64, nz: int = 32, ns: int = 3, width: int = 32) -> None:
        super().__init__()
        self.res, self.nz, self.ns = res, nz, ns
        n = _levels(res, 4)
        chans = [min(width * 2 ** (n - i), 192) for i in range(n + 1)]  # 4x4 ... res
        cond = 128
        self.embed = nn.Sequential(nn.Linear(nz + ns, cond), nn.LeakyReLU(0.2), nn.Linear(cond, cond), nn.LeakyReLU(0.2))
        self.fc = nn.Linear(cond, chans[0] * 16)
        self.c0 = chans[0]
        self.blocks = nn.ModuleList(FiLMBlock(chans[i], chans[i + 1], cond) for i in range(n))
        self.out = nn.Conv2d(chans[-1], 3, 3, padding=1)

    def forward(self, z: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        c = self.embed(torch.cat([z, style], 1))
        x = F.leaky_relu(self.fc(c), 0.2).view(-1, self.c0, 4, 4)
        for b in self.blocks:
            x = b(F.interpolate(x, scale_factor=2.0, mode="nearest"), c)
        return torch.tanh(self.out(x))


class ShapeG(nn.Module):
    """(category one-hot, z) -> mask logits [B,1,M,M]; ``forward`` returns probabilities."""

    def __init__(self, res: int = 32, nz: int = 16, nc: int = 6, width: int = 32) -> None:
        super().__init__()
        self.res, self.nz, self.nc = res, nz, nc
        n = _levels(res, 4)
        chans = [min(width * 2 ** (n - i), 192) for i in range(n + 1)]
        cond = 128
        self.embed = nn.Sequential(nn.Linear(nz + nc, cond), nn.LeakyReLU(0.2), nn.Linear(cond, cond), nn.LeakyReLU(0.2))
        self.fc = nn.Linear(cond, chans[0] * 16)
        self.c0 = chans[0]
        self.blocks = nn.ModuleList(FiLMBlock(chans[i], chans[i + 1], cond) for i in range(n))
        self.out = nn.Conv2d(chans[-1], 1, 3, padding=1)

    def logits(self, category: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        c = self.embed(torch.cat([category, z], 1))
        x = F.leaky_relu(self.fc(c), 0.2).view(-1, self.c0, 4, 4)
        for b in self.blocks:
            x = b(F.interpolate(x, scale_factor=2.0, mode="nearest"), c)
        return self.out(x)

    def forward(self, category: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(category, z))


class ForegroundG(nn.Module):
    """U-Net: (canvas, mask, category, z) -> composited canvas.

    Input channels: canvas (3), mask (1), mask written into its category's channel (C).
    (z, category, the canvas's mean colour overall and in its upper half) condition the decoder by FiLM
    and the bottleneck, so the lighting can be read from the background.
    The net predicts the object's colours inside the mask and, in the dilation band, a darkening factor
    for the canvas (the contact shadow): band pixels are ``(canvas + 1) * f - 1`` with f in (0, 1).
    """

    def __init__(self, res: int = 64, nz: int = 32, nc: int = 6, width: int = 24, dilation: int = 2) -> None:
        super().__init__()
        self.res, self.nz, self.nc, self.dilation = res, nz, nc, dilation
        n = _levels(res, 4)
        self.n = n
        enc = [min(width * 2 ** i, 160) for i in range(n + 1)]  # res ... 4x4
        cond = 128
        self.embed = nn.Sequential(nn.Linear(nz + nc + 6, cond), nn.LeakyReLU(0.2), nn.Linear(cond, cond), nn.LeakyReLU(0.2))
        self.inp = nn.Conv2d(4 + nc, enc[0], 3, padding=1)
        self.down = nn.ModuleList()
        for i in range(n):
            self.down.append(nn.Sequential(nn.Conv2d(enc[i], enc[i + 1], 4, stride=2, padding=1), _norm(enc[i + 1]), nn.LeakyReLU(0.2),
                                           nn.Conv2d(enc[i + 1], enc[i + 1], 3, padding=1), _norm(enc[i + 1]), nn.LeakyReLU(0.2)))
        self.mid = FiLMBlock(enc[n] + cond, enc[n], cond)
        self.up = nn.ModuleList()
        for i in range(n, 0, -1):
            self.up.append(FiLMBlock(enc[i] + enc[i - 1], enc[i - 1], cond))
        self.out = nn.Conv2d(enc[0], 4, 3, padding=1)
        with torch.no_grad():
            self.out.bias[3] = -3.0  # start with (almost) no shadow

    def generate(self, canvas: torch.Tensor, mask: torch.Tensor, category: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        half = canvas.shape[2] // 2
        glob = torch.cat([canvas.mean(dim=(2, 3)), canvas[:, :, :half].mean(dim=(2, 3))], 1)
        c = self.embed(torch.cat([z, category, glob], 1))
        x = torch.cat([canvas, mask, mask * category[:, :, None, None]], 1)
        h = F.leaky_relu(self.inp(x), 0.2)
        skips: List[torch.Tensor] = [h]
        for d in self.down:
            h = d(h)
            skips.append(h)
        h = skips.pop()
        cb = c[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
        h = self.mid(torch.cat([h, cb], 1), c)
        for u in self.up:
            s = skips.pop()
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
            h = u(torch.cat([h, s], 1), c)
        o = self.out(h)
        rgb = torch.tanh(o[:, :3])
        shade = 1 - torch.sigmoid(o[:, 3:4])
        return torch.where(mask > 0.5, rgb, (canvas + 1) * shade - 1)

    def composite(self, generated: torch.Tensor, canvas: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        k = 2 * self.dilation + 1
        dil = F.max_pool2d(mask, kernel_size=k, stride=1, padding=self.dilation)
        return torch.where(dil > 0.5, generated, canvas)

    def forward(self, canvas: torch.Tensor, mask: torch.Tensor, category: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.composite(self.generate(canvas, mask, category, z), canvas, mask)


class PatchD(nn.Module):
    """Conditional (projection) discriminator on images of size ``res``."""

    def __init__(self, cin: int, res: int, ncond: int, width: int = 32) -> None:
        super().__init__()
        n = _levels(res, 4)
        layers: List[nn.Module] = []
        c = cin
        for i in range(n):
            co = min(width * 2 ** i, 256)
            layers += [nn.Conv2d(c, co, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c = co
        self.body = nn.Sequential(*layers)
        self.lin = nn.Linear(c, 1)
        self.proj = nn.Linear(ncond, c, bias=False) if ncond > 0 else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor = None) -> torch.Tensor:
        h = self.body(x).sum(dim=(2, 3))
        out = self.lin(h)
        if self.proj is not None and cond is not None:
            out = out + (self.proj(cond) * h).sum(1, keepdim=True)
        return out


def crop_boxes(img: torch.Tensor, boxes: torch.Tensor, size: int, pad: float = 0.1) -> torch.Tensor:
    """Crop normalised boxes (x0, y0, w, h) with some padding and resize to size x size."""
    x0, y0, w, h = boxes.unbind(1)
    s = torch.maximum(w, h) * (1 + 2 * pad)
    cx, cy = x0 + w / 2, y0 + h / 2
    theta = torch.zeros(img.shape[0], 2, 3, dtype=img.dtype)
    theta[:, 0, 0] = s
    theta[:, 1, 1] = s
    theta[:, 0, 2] = cx * 2 - 1
    theta[:, 1, 2] = cy * 2 - 1
    g = F.affine_grid(theta, [img.shape[0], img.shape[1], size, size], align_corners=False)
    return F.grid_sample(img, g, mode="bilinear", padding_mode="border", align_corners=False)


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def build_generators(res: int, shape_res: int, n_cat: int, n_style: int, nz: Tuple[int, int, int], dilation: int) -> Tuple[BackgroundG, ForegroundG, ShapeG]:
    return (BackgroundG(res, nz[0], n_style), ForegroundG(res, nz[1], n_cat, dilation=dilation), ShapeG(shape_res, nz[2], n_cat))
