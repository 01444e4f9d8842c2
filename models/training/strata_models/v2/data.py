"""Pre-rendered v2 training data (uint8, cached as .npz in models/training/.cache/).

Per scene: the background x0 (R x R), its style, noise and lighting code, the finished canvas and the
layout's semantic map (category + 1 per pixel, 0 = none; later objects over earlier ones) for the baseline.
Per object step: the crop of the previous canvas around the object's box (engine.crop_in, CROP x CROP), the
world's own painting of the object in that crop (world.paint_object on the crop with the box at
world.crop_box()), its mask in the crop, category, noise, box and scene index.
Per shape: the object-centred world mask at the shape resolution for the shape noise.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from . import world as W
from .engine import crop_in, light_code

CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache"


@dataclass
class Dataset2:
    res: int
    crop: int
    shape_res: int
    bg: np.ndarray  # uint8 [N,R,R,3]
    style: np.ndarray  # int64 [N]
    z_bg: np.ndarray  # float32 [N,Zb]
    light: np.ndarray  # float32 [N,9]
    final: np.ndarray  # uint8 [N,R,R,3]
    labels: np.ndarray  # uint8 [N,R,R]
    crop_prev: np.ndarray  # uint8 [S,K,K,3]
    crop_next: np.ndarray  # uint8 [S,K,K,3]
    crop_mask: np.ndarray  # bool [S,K,K]
    cat: np.ndarray  # int64 [S]
    z_fg: np.ndarray  # float32 [S,Zf]
    z_shape: np.ndarray  # float32 [S,Zs]
    box: np.ndarray  # float32 [S,4]
    scene: np.ndarray  # int64 [S]
    shape_mask: np.ndarray  # bool [Q,M,M]
    shape_cat: np.ndarray  # int64 [Q]
    shape_z: np.ndarray  # float32 [Q,Zs]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **{k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)},
                 res=np.array(self.res), crop=np.array(self.crop), shape_res=np.array(self.shape_res))
        os.replace(tmp, path)

    @staticmethod
    def load(path: Path) -> "Dataset2":
        d = np.load(path)
        kw = {k: d[k] for k in d.files if k not in ("res", "crop", "shape_res")}
        return Dataset2(res=int(d["res"]), crop=int(d["crop"]), shape_res=int(d["shape_res"]), **kw)


def build(n_scenes: int, res: int, shape_res: int, crop: int = W.CROP, seed: int = 0, n_shapes: Optional[int] = None,
          log=print, seed_base: Optional[int] = None) -> Dataset2:
    t0 = time.time()
    S = len(W.STYLES)
    bgs, styles, zbs, lights, finals, labels = [], [], [], [], [], []
    cp, cn, cm, cats, zfs, zss, boxes, scene = [], [], [], [], [], [], [], []
    sm, sc, sz = [], [], []
    cbox = W.crop_box(crop)
    base_seed = seed * 1_000_003 if seed_base is None else seed_base
    for i in range(n_scenes):
        s = W.render_scene(base_seed + i, res)
        bgs.append(s.background)
        styles.append(s.style)
        zbs.append(s.z_bg)
        bgt = torch.from_numpy(s.background_f).permute(2, 0, 1)[None].float() * 2 - 1
        lights.append(light_code(bgt, torch.eye(S)[[s.style]])[0].numpy())
        finals.append(s.canvases[-1])
        lab = np.zeros((res, res), np.uint8)
        for o in s.objects:
            lab[o.mask] = o.category + 1
        labels.append(lab)
        if s.objects:
            prev = torch.from_numpy(np.stack(s.canvases[:-1])).permute(0, 3, 1, 2).float() / 127.5 - 1
            bx = torch.tensor([o.box for o in s.objects], dtype=torch.float32)
            crops = ((crop_in(prev, bx, crop) + 1) / 2).permute(0, 2, 3, 1).numpy().astype(np.float64)
        for t, o in enumerate(s.objects):
            cin = W.to_uint8(crops[t])
            q = W.params_from_noise(o.z_shape[:W.SHAPE_PARAMS])
            a = W.params_from_noise(o.z_fg[:W.FG_PARAMS])
            out, m = W.paint_object(cin.astype(np.float64) / 255.0, o.category, q, a, cbox, s.style)
            cp.append(cin)
            cn.append(W.to_uint8(out))
            cm.append(m)
            cats.append(o.category)
            zfs.append(o.z_fg)
            zss.append(o.z_shape)
            boxes.append(o.box)
            scene.append(i)
            sm.append(W.shape_mask(o.category, q, shape_res))
            sc.append(o.category)
            sz.append(o.z_shape)
        if log and (i + 1) % 1000 == 0:
            log(f"rendered {i + 1}/{n_scenes} scenes ({time.time() - t0:.0f}s)")
    rng = np.random.default_rng(seed + 17)
    for _ in range(max(0, (n_shapes or 0) - len(sm))):
        c = int(rng.integers(len(W.CATEGORIES)))
        z = rng.standard_normal(W.NOISE_SHAPE).astype(np.float32)
        sm.append(W.shape_mask(c, W.params_from_noise(z[:W.SHAPE_PARAMS]), shape_res))
        sc.append(c)
        sz.append(z)
    return Dataset2(
        res=res, crop=crop, shape_res=shape_res,
        bg=np.stack(bgs), style=np.array(styles, np.int64), z_bg=np.stack(zbs).astype(np.float32),
        light=np.stack(lights).astype(np.float32), final=np.stack(finals), labels=np.stack(labels),
        crop_prev=np.stack(cp), crop_next=np.stack(cn), crop_mask=np.stack(cm).astype(bool),
        cat=np.array(cats, np.int64), z_fg=np.stack(zfs).astype(np.float32), z_shape=np.stack(zss).astype(np.float32),
        box=np.array(boxes, np.float32), scene=np.array(scene, np.int64),
        shape_mask=np.stack(sm).astype(bool), shape_cat=np.array(sc, np.int64), shape_z=np.stack(sz).astype(np.float32),
    )


def cache_path(n_scenes: int, res: int, shape_res: int, crop: int, seed: int, cache_dir: Optional[Path] = None) -> Path:
    d = Path(cache_dir) if cache_dir else CACHE_DIR
    return d / f"world2-r{res}-c{crop}-m{shape_res}-n{n_scenes}-s{seed}-v{W.WORLD_VERSION}.npz"


def cached(n_scenes: int, res: int, shape_res: int, crop: int = W.CROP, seed: int = 0,
           cache_dir: Optional[Path] = None, log=print) -> Dataset2:
    path = cache_path(n_scenes, res, shape_res, crop, seed, cache_dir)
    if path.exists():
        return Dataset2.load(path)
    ds = build(n_scenes, res, shape_res, crop, seed, n_shapes=5 * n_scenes, log=log)
    ds.save(path)
    return ds


def main(argv=None) -> None:
    """Render (or load) the cached v2 training set:  python -m strata_models.v2.data --scenes 10000 --resolution 128"""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--scenes", type=int, default=10000)
    ap.add_argument("--resolution", type=int, default=128)
    ap.add_argument("--shape-resolution", type=int, default=64)
    ap.add_argument("--crop", type=int, default=W.CROP)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    t = time.time()
    ds = cached(a.scenes, a.resolution, a.shape_resolution, a.crop, a.seed, log=lambda s: print(s, flush=True))
    print(f"{len(ds.bg)} scenes, {len(ds.cat)} object steps, {len(ds.shape_mask)} shapes in {time.time() - t:.0f}s")


if __name__ == "__main__":
    main()
