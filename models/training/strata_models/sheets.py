"""Sample sheets (PNG) of the trained generators.

    /usr/bin/python3 -m strata_models.sheets --run runs/main --out ../samples

scenes.png   one row per style: x0 (background) ... xT painted step by step by the generators, then
             (after a gap) the procedural world's own rendering of the same layout and seeds for reference.
objects.png  one row per category: objects painted by the generators across seeds (shape from the shape
             generator, appearance from the foreground generator) on day, dusk and night backgrounds.
shapes.png   one row per category: shape generator masks across seeds.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
from PIL import Image, ImageDraw

from . import world as W
from .compose import compose, to_np_uint8
from .train import RUNS_DIR, load_generators

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "samples"
LABEL_W = 44


def _grid(rows: List[List[np.ndarray]], labels: List[str], scale: int, gap_after: Optional[int] = None) -> Image.Image:
    h, w = rows[0][0].shape[:2]
    ncol = max(len(r) for r in rows)
    pad = 2
    gap = 8 if gap_after is not None else 0
    W_ = LABEL_W + ncol * (w * scale + pad) + gap
    H_ = len(rows) * (h * scale + pad)
    im = Image.new("RGB", (W_, H_), (24, 24, 28))
    d = ImageDraw.Draw(im)
    for r, (row, lab) in enumerate(zip(rows, labels)):
        y = r * (h * scale + pad)
        d.text((4, y + h * scale // 2 - 5), lab, fill=(230, 230, 230))
        for c, cell in enumerate(row):
            x = LABEL_W + c * (w * scale + pad) + (gap if gap_after is not None and c > gap_after else 0)
            im.paste(Image.fromarray(cell).resize((w * scale, h * scale), Image.NEAREST), (x, y))
    return im


@torch.no_grad()
def scenes_sheet(gens: Dict[str, torch.nn.Module], res: int, seed: int = 0, n_objects: int = 4, per_style: int = 2) -> Image.Image:
    rows, labels = [], []
    for st in range(len(W.STYLES)):
        for k in range(per_style):
            s = W.render_scene(seed + 1000 * st + k, res, n_objects=n_objects, style=st)
            layers = [(torch.tensor([o.category]), torch.tensor([o.box], dtype=torch.float32),
                       torch.from_numpy(o.z_shape)[None], torch.from_numpy(o.z_fg)[None]) for o in s.objects]
            canv, _ = compose(gens, [st], torch.from_numpy(s.z_bg)[None], layers)
            row = [to_np_uint8(c)[0] for c in canv] + [s.canvases[-1]]
            rows.append(row)
            labels.append(W.STYLES[st])
    return _grid(rows, labels, scale=3, gap_after=n_objects)


@torch.no_grad()
def objects_sheet(gens: Dict[str, torch.nn.Module], res: int, seeds: int = 9, seed: int = 0) -> Image.Image:
    g = torch.Generator().manual_seed(seed)
    C = len(W.CATEGORIES)
    rows, labels = [], []
    box = torch.tensor([[0.2, 0.22, 0.6, 0.72]])
    for c in range(C):
        row = []
        for k in range(seeds):
            st = k % 3
            z_bg = torch.randn(1, W.NOISE_BACKGROUND, generator=g)
            zs = torch.randn(1, W.NOISE_SHAPE, generator=g)
            zf = torch.randn(1, W.NOISE_FOREGROUND, generator=g)
            canv, _ = compose(gens, [st], z_bg, [(torch.tensor([c]), box, zs, zf)])
            row.append(to_np_uint8(canv[-1])[0])
        rows.append(row)
        labels.append(W.CATEGORIES[c])
    return _grid(rows, labels, scale=2)


@torch.no_grad()
def shapes_sheet(gens: Dict[str, torch.nn.Module], seeds: int = 12, seed: int = 0) -> Image.Image:
    g = torch.Generator().manual_seed(seed)
    C = len(W.CATEGORIES)
    rows, labels = [], []
    for c in range(C):
        zs = torch.randn(seeds, W.NOISE_SHAPE, generator=g)
        m = gens["shape"](torch.nn.functional.one_hot(torch.full((seeds,), c), C).float(), zs)
        cells = [np.repeat(((m[i, 0] > 0.5).numpy() * 220 + 20).astype(np.uint8)[..., None], 3, -1) for i in range(seeds)]
        rows.append(cells)
        labels.append(W.CATEGORIES[c])
    return _grid(rows, labels, scale=2)


def write_sheets(run: Path, out: Path) -> List[Path]:
    cfg, gens = load_generators(run)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, im in (("scenes.png", scenes_sheet(gens, cfg.resolution)),
                     ("objects.png", objects_sheet(gens, cfg.resolution)),
                     ("shapes.png", shapes_sheet(gens))):
        p = out / name
        im.save(p, optimize=True)
        paths.append(p)
    return paths


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=RUNS_DIR / "main")
    ap.add_argument("--out", type=Path, default=SAMPLES_DIR)
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    for p in write_sheets(a.run, a.out):
        print(p)


if __name__ == "__main__":
    main()
