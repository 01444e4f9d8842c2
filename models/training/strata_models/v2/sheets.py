"""v2 sample sheets (held-out seeds 90000+).

training_sheet(gens, cfg) -> one PIL image, sections top to bottom:
  backgrounds  per style, two seeds: generated | world (same noise), ...
  foreground   six held-out crops: input crop | generated | world target, ...  (the world's masks)
  shapes       per category: generated mask | world mask, two seeds each
  scenes       three layouts composed by the engine (background gen -> shape gen -> crop foreground gen, pasted):
               x0 | x1 | ... | xT | world | baseline (single-shot, same layout and background noise)
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import torch
from PIL import Image, ImageDraw

from . import world as W
from .data import build
from .engine import compose, light_code, onehot
from .nets import layout_map

EVAL_SEED = 90_000


def _u8(x: torch.Tensor) -> np.ndarray:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def _mask_u8(m: torch.Tensor) -> np.ndarray:
    return np.repeat((m[:, 0].clamp(0, 1) * 255).round().byte().numpy()[..., None], 3, -1)


def _row(cells: List[np.ndarray], cell: int) -> Image.Image:
    pad = 2
    im = Image.new("RGB", (len(cells) * (cell + pad), cell + pad), (24, 24, 28))
    for i, c in enumerate(cells):
        im.paste(Image.fromarray(c).resize((cell, cell), Image.NEAREST), (i * (cell + pad), 0))
    return im


def _stack(rows: List[Image.Image], titles: List[str]) -> Image.Image:
    width = max(r.width for r in rows) + 70
    height = sum(r.height for r in rows)
    im = Image.new("RGB", (width, height), (24, 24, 28))
    d = ImageDraw.Draw(im)
    y = 0
    for r, t in zip(rows, titles):
        im.paste(r, (70, y))
        d.text((4, y + r.height // 2 - 5), t, fill=(230, 230, 230))
        y += r.height
    return im


@torch.no_grad()
def training_sheet(gens: Dict[str, torch.nn.Module], cfg, n_scenes: int = 3, cell: int = 128) -> Image.Image:
    for g in gens.values():
        g.eval()
    R, K, M = cfg.resolution, cfg.crop, cfg.shape_resolution
    C, S = len(W.CATEGORIES), len(W.STYLES)
    rows, titles = [], []
    # backgrounds
    rng = np.random.default_rng(EVAL_SEED)
    cells = []
    for st in range(S):
        for _ in range(2):
            z = rng.standard_normal(W.NOISE_BACKGROUND).astype(np.float32)
            gen = gens["background"](torch.from_numpy(z)[None], onehot([st], S))
            cells += [_u8(gen)[0], W.background_image(st, z, R)]
    rows.append(_row(cells, cell))
    titles.append("bg g|w")
    # foreground on held-out crops
    ds = build(12, R, M, K, seed_base=EVAL_SEED + 1, log=None)
    n = min(6, len(ds.cat))
    i = np.arange(n)
    sc = ds.scene[i]
    out = gens["foreground"](torch.from_numpy(ds.crop_prev[i]).permute(0, 3, 1, 2).float() / 127.5 - 1,
                             torch.from_numpy(ds.crop_mask[i]).float()[:, None], onehot(ds.cat[i], C),
                             torch.from_numpy(ds.z_fg[i]), torch.from_numpy(ds.light[sc]))
    cells = []
    for j in range(n):
        cells += [ds.crop_prev[j], _u8(out[j:j + 1])[0], ds.crop_next[j]]
    rows.append(_row(cells, cell * 3 // 4))
    titles.append("fg in|g|w")
    # shapes
    cells = []
    for c in range(C):
        for _ in range(2):
            z = rng.standard_normal(W.NOISE_SHAPE).astype(np.float32)
            m = gens["shape"](onehot([c], C), torch.from_numpy(z)[None])
            world = W.shape_mask(c, W.params_from_noise(z[:W.SHAPE_PARAMS]), M)
            cells += [_mask_u8(m)[0], np.repeat((world * 255).astype(np.uint8)[..., None], 3, -1)]
    rows.append(_row(cells, cell // 2))
    titles.append("shape g|w")
    # composed scenes
    for k in range(n_scenes):
        s = W.render_scene(EVAL_SEED + 500 + k, R, n_objects=4, style=k % S)
        layers = [([o.category], torch.tensor([o.box], dtype=torch.float32), torch.from_numpy(o.z_shape)[None],
                   torch.from_numpy(o.z_fg)[None]) for o in s.objects]
        canv, _ = compose(gens, [s.style], torch.from_numpy(s.z_bg)[None], layers, crop=K)
        lab = np.zeros((R, R), np.uint8)
        for o in s.objects:
            lab[o.mask] = o.category + 1
        base = gens["baseline"](layout_map(torch.from_numpy(lab)[None], C), torch.from_numpy(s.z_bg)[None],
                                onehot([s.style], S))
        cells = [_u8(c)[0] for c in canv] + [s.canvases[-1], _u8(base)[0]]
        rows.append(_row(cells, cell))
        titles.append(f"scene {W.STYLES[s.style]}")
    return _stack(rows, titles)


def main(argv=None) -> None:
    """Draw the training sheet of a run:  python -m strata_models.v2.sheets --run checkpoints/v2 --out sheet.png"""
    import argparse
    from pathlib import Path

    from .train import RUN_DIR, load_generators

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--run", type=Path, default=RUN_DIR)
    ap.add_argument("--out", type=Path, default=Path("v2-sheet.png"))
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg, gens = load_generators(a.run)
    training_sheet(gens, cfg).save(a.out)
    print(a.out)


if __name__ == "__main__":
    main()
