"""Pre-rendered training data from the procedural world (cached as .npz, uint8)."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from . import world as W

CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache"


@dataclass
class Dataset:
    res: int
    shape_res: int
    # backgrounds, one per scene
    bg: np.ndarray  # uint8 [N,R,R,3]
    style: np.ndarray  # int64 [N]
    z_bg: np.ndarray  # float32 [N,Zb]
    # foreground steps
    prev: np.ndarray  # int64 [S] index into canv
    next: np.ndarray  # int64 [S]
    canv: np.ndarray  # uint8 [K,R,R,3] every canvas of every scene
    mask: np.ndarray  # bool [S,R,R]
    cat: np.ndarray  # int64 [S]
    z_fg: np.ndarray  # float32 [S,Zf]
    box: np.ndarray  # float32 [S,4]
    step_style: np.ndarray  # int64 [S]
    # shapes
    shape_mask: np.ndarray  # bool [Q,M,M]
    shape_cat: np.ndarray  # int64 [Q]
    shape_z: np.ndarray  # float32 [Q,Zs]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **{k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)},
                 res=np.array(self.res), shape_res=np.array(self.shape_res))
        os.replace(tmp, path)

    @staticmethod
    def load(path: Path) -> "Dataset":
        d = np.load(path)
        kw = {k: d[k] for k in d.files if k not in ("res", "shape_res")}
        return Dataset(res=int(d["res"]), shape_res=int(d["shape_res"]), **kw)


def build(n_scenes: int, res: int, shape_res: int, seed: int = 0, n_shapes: Optional[int] = None,
          log: bool = True) -> Dataset:
    t0 = time.time()
    bgs, styles, zbs = [], [], []
    prev, nxt, canv, masks, cats, zfs, boxes, sst = [], [], [], [], [], [], [], []
    sm, sc, sz = [], [], []
    for i in range(n_scenes):
        s = W.render_scene(seed * 1_000_003 + i, res)
        bgs.append(s.background)
        styles.append(s.style)
        zbs.append(s.z_bg)
        base = len(canv)
        canv.extend(s.canvases)
        for t, o in enumerate(s.objects):
            prev.append(base + t)
            nxt.append(base + t + 1)
            masks.append(o.mask)
            cats.append(o.category)
            zfs.append(o.z_fg)
            boxes.append(o.box)
            sst.append(s.style)
            sm.append(W.shape_mask(o.category, W.params_from_noise(o.z_shape[:W.SHAPE_PARAMS]), shape_res))
            sc.append(o.category)
            sz.append(o.z_shape)
        if log and (i + 1) % 2000 == 0:
            print(f"rendered {i + 1}/{n_scenes} scenes ({time.time() - t0:.0f}s)", flush=True)
    rng = np.random.default_rng(seed + 17)
    extra = (n_shapes or 0) - len(sm)
    for _ in range(max(0, extra)):
        c = int(rng.integers(len(W.CATEGORIES)))
        z = rng.standard_normal(W.NOISE_SHAPE).astype(np.float32)
        sm.append(W.shape_mask(c, W.params_from_noise(z[:W.SHAPE_PARAMS]), shape_res))
        sc.append(c)
        sz.append(z)
    return Dataset(
        res=res, shape_res=shape_res,
        bg=np.stack(bgs), style=np.array(styles, np.int64), z_bg=np.stack(zbs).astype(np.float32),
        prev=np.array(prev, np.int64), next=np.array(nxt, np.int64), canv=np.stack(canv),
        mask=np.stack(masks).astype(bool), cat=np.array(cats, np.int64), z_fg=np.stack(zfs).astype(np.float32),
        box=np.array(boxes, np.float32), step_style=np.array(sst, np.int64),
        shape_mask=np.stack(sm).astype(bool), shape_cat=np.array(sc, np.int64), shape_z=np.stack(sz).astype(np.float32),
    )


def cached(n_scenes: int, res: int, shape_res: int, seed: int = 0, cache_dir: Optional[Path] = None) -> Dataset:
    d = Path(cache_dir) if cache_dir else CACHE_DIR
    path = d / f"world-r{res}-m{shape_res}-n{n_scenes}-s{seed}-v{WORLD_VERSION}.npz"
    if path.exists():
        return Dataset.load(path)
    ds = build(n_scenes, res, shape_res, seed, n_shapes=5 * n_scenes)
    ds.save(path)
    return ds


WORLD_VERSION = 1


def main(argv=None) -> None:
    """Render (or load) the cached training set:  python -m strata_models.data --scenes 20000 --resolution 64"""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--scenes", type=int, default=20000)
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--shape-resolution", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    t = time.time()
    ds = cached(a.scenes, a.resolution, a.shape_resolution, a.seed)
    print(f"{len(ds.bg)} scenes, {len(ds.prev)} object steps, {len(ds.shape_mask)} shapes in {time.time() - t:.0f}s -> {CACHE_DIR}")


if __name__ == "__main__":
    main()
