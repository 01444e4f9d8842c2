"""Measure the generators against the procedural world.

    /usr/bin/python3 -m strata_models.evaluate --run runs/main [--manifest ../manifest.json]

No pretrained network exists on these machines, so two small classifiers are trained on the world
(held-out seeds) and their penultimate features stand in for Inception features:
  * a scene classifier (style + which categories are present) on full canvases, and
  * an object classifier (category) on 32x32 crops of each object's box.
Figures (all on held-out seeds, none of which were used in training):
  frechet.backgrounds   FD(real backgrounds, generated backgrounds), with the floor FD(real half A, real half B)
  frechet.scenes        FD(real scenes, scenes composed step by step by the generators with the same layouts)
  classifier            object-classifier accuracy on real crops and on generated crops (full chain:
                        shape generator + foreground generator; and foreground generator with the world's masks)
  locality              max |change| outside the dilated mask (must be 0) and the share of change inside the mask
  shape                 IoU(painted pixels, mask) for generated and real objects; IoU(shape generator, world shape)
  diversity             mean pairwise distance between objects painted with different seeds in the same mask
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import world as W
from .compose import compose, from_np_uint8, to_np_uint8
from .data import Dataset, build
from .nets import crop_boxes
from .train import RUNS_DIR, load_generators

EVAL_SEED = 90_000  # scenes rendered from seeds far from the training seeds


class SmallCNN(nn.Module):
    def __init__(self, res: int, nout: int, feat: int = 64) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        c = 3
        r = res
        for co in (32, 64, 128):
            layers += [nn.Conv2d(c, co, 3, padding=1), nn.BatchNorm2d(co), nn.ReLU(), nn.MaxPool2d(2)]
            c, r = co, r // 2
        self.body = nn.Sequential(*layers)
        self.feat = nn.Sequential(nn.Flatten(), nn.Linear(c * r * r, feat), nn.ReLU())
        self.head = nn.Linear(feat, nout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.feat(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def object_crops(canvases: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    return crop_boxes(canvases, boxes, 32, pad=0.08)


def _fit(net: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, steps: int, batch: int = 64, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    net.train()
    for _ in range(steps):
        i = torch.randint(len(x), (batch,), generator=g)
        loss = loss_fn(net(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()


@torch.no_grad()
def _feats(net: SmallCNN, x: torch.Tensor) -> np.ndarray:
    return torch.cat([net.features(x[i:i + 256]) for i in range(0, len(x), 256)]).double().numpy()


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = r1 @ s2 @ r1
    ev = np.linalg.eigvalsh((m + m.T) / 2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(ev, 0, None)).sum())


def iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = np.logical_and(a, b).sum()
    uni = np.logical_or(a, b).sum()
    return float(inter / max(uni, 1))


def _layers_of(ds: Dataset, scene_steps: List[List[int]], scene_ids: List[int], rng: np.random.Generator,
               fresh: bool) -> Tuple[list, int]:
    """Group the object steps of scenes with the same number of objects into batched layers."""
    T = len(scene_steps[scene_ids[0]])
    layers = []
    for t in range(T):
        idx = [scene_steps[s][t] for s in scene_ids]
        z_fg = rng.standard_normal((len(idx), W.NOISE_FOREGROUND)).astype(np.float32) if fresh else ds.z_fg[idx]
        layers.append((torch.from_numpy(ds.cat[idx]), torch.from_numpy(ds.box[idx]),
                       torch.from_numpy(rng.standard_normal((len(idx), W.NOISE_SHAPE)).astype(np.float32)),
                       torch.from_numpy(z_fg)))
    return layers, T


def evaluate(run: Path, n_scenes: int = 2000, classifier_steps: int = 600, log=print, threads: int = 2) -> dict:
    torch.set_num_threads(threads)
    t0 = time.time()
    cfg, gens = load_generators(run)
    R, C, S = cfg.resolution, len(W.CATEGORIES), len(W.STYLES)
    # held-out world data: half A trains the classifiers and is the "real" side, half B gives layouts and the floor
    ds = build(n_scenes, R, cfg.shape_resolution, seed=EVAL_SEED, log=False)
    # recover the scenes: steps are stored scene by scene, each step's prev is the previous step's next
    steps_of: List[List[int]] = [[] for _ in range(len(ds.bg))]
    s = -1
    for i in range(len(ds.prev)):
        if i == 0 or ds.prev[i] != ds.next[i - 1]:
            s += 1
        steps_of[s].append(i)
    half = len(ds.bg) // 2
    A, B = np.arange(half), np.arange(half, len(ds.bg))
    final = np.array([ds.next[steps_of[s][-1]] for s in range(len(ds.bg))])
    log(f"eval data: {len(ds.bg)} scenes ({time.time() - t0:.0f}s)")

    # --- classifiers
    torch.manual_seed(0)
    def small(x: torch.Tensor) -> torch.Tensor:  # the scene classifier looks at 32x32 (cheap on a CPU)
        return F.adaptive_avg_pool2d(x, 32) if x.shape[-1] > 32 else x

    scenes_x = small(from_np_uint8(ds.canv[final]))
    bgs_x = small(from_np_uint8(ds.bg))
    y_scene = torch.zeros(len(ds.bg), S + C)
    for s in range(len(ds.bg)):
        y_scene[s, ds.style[s]] = 1
        for i in steps_of[s]:
            y_scene[s, S + ds.cat[i]] = 1
    scene_net = SmallCNN(min(R, 32), S + C)
    # trained on half A's scenes and backgrounds (backgrounds have no objects)
    xa = torch.cat([scenes_x[A], bgs_x[A]])
    ya = torch.cat([y_scene[A], torch.cat([y_scene[A, :S], torch.zeros(len(A), C)], 1)])
    _fit(scene_net, xa, ya, F.binary_cross_entropy_with_logits, classifier_steps)
    obj_A = [i for s in A for i in steps_of[s]]
    obj_B = [i for s in B for i in steps_of[s]]
    crops = object_crops(from_np_uint8(ds.canv[ds.next]), torch.from_numpy(ds.box))
    cat_t = torch.from_numpy(ds.cat)
    obj_net = SmallCNN(32, C)
    _fit(obj_net, crops[obj_A], cat_t[obj_A], F.cross_entropy, classifier_steps)
    with torch.no_grad():
        real_acc = float((obj_net(crops[obj_B]).argmax(1) == cat_t[obj_B]).float().mean())
    log(f"classifiers trained ({time.time() - t0:.0f}s); real crop accuracy {real_acc:.3f}")

    rng = np.random.default_rng(1)
    # --- backgrounds
    with torch.no_grad():
        zb = torch.randn(len(B), W.NOISE_BACKGROUND, generator=torch.Generator().manual_seed(2))
        gen_bg = gens["background"](zb, F.one_hot(torch.from_numpy(ds.style[B]), S).float())
    fA, fB, fG = _feats(scene_net, bgs_x[A]), _feats(scene_net, bgs_x[B]), _feats(scene_net, small(gen_bg))
    fd_bg, fd_bg_floor = frechet(fA, fG), frechet(fA, fB)

    # --- scenes composed step by step with half B's layouts (fresh shape and appearance noise)
    gen_final = torch.zeros(len(B), 3, R, R)
    gen_crops, gen_crop_cat = [], []
    by_len: Dict[int, List[int]] = {}
    for j, s in enumerate(B):
        by_len.setdefault(len(steps_of[s]), []).append(j)
    for T, js in by_len.items():
        sids = [int(B[j]) for j in js]
        layers, _ = _layers_of(ds, steps_of, sids, rng, fresh=True)
        zb = torch.randn(len(sids), W.NOISE_BACKGROUND, generator=torch.Generator().manual_seed(3 + T))
        canv, _ = compose(gens, ds.style[sids].tolist(), zb, layers)
        gen_final[js] = canv[-1]
        for t in range(T):
            gen_crops.append(object_crops(canv[t + 1], layers[t][1]))
            gen_crop_cat.append(layers[t][0])
    fd_sc, fd_sc_floor = frechet(_feats(scene_net, scenes_x[A]), _feats(scene_net, small(gen_final))), \
        frechet(_feats(scene_net, scenes_x[A]), _feats(scene_net, scenes_x[B]))
    with torch.no_grad():
        gc, gcat = torch.cat(gen_crops), torch.cat(gen_crop_cat)
        gen_acc = float((obj_net(gc).argmax(1) == gcat).float().mean())

    log(f"backgrounds and composed scenes done ({time.time() - t0:.0f}s)")
    # --- foreground with the world's own masks and canvases (half B): locality, adherence, accuracy
    idx = np.array(obj_B)
    prev = from_np_uint8(ds.canv[ds.prev[idx]])
    mask = torch.from_numpy(ds.mask[idx]).float()[:, None]
    cat = F.one_hot(torch.from_numpy(ds.cat[idx]), C).float()
    zf = torch.from_numpy(rng.standard_normal((len(idx), W.NOISE_FOREGROUND)).astype(np.float32))
    with torch.no_grad():
        out = torch.cat([gens["foreground"](prev[i:i + 128], mask[i:i + 128], cat[i:i + 128], zf[i:i + 128])
                         for i in range(0, len(idx), 128)])
        acc_mask = float((obj_net(object_crops(out, torch.from_numpy(ds.box[idx]))).argmax(1) == cat_t[idx]).float().mean())
    dil = F.max_pool2d(mask, 2 * W.DILATION + 1, 1, W.DILATION) > 0.5
    delta = (out - prev).abs()
    outside = float(delta.masked_select(~dil.expand_as(delta)).max()) if (~dil).any() else 0.0
    share_in = float((delta * mask).sum() / delta.sum().clamp_min(1e-9))
    thr = 2 * 12.0 / 255.0  # a change of more than 12 levels (of 255) in some channel counts as painted
    painted = (delta.max(1).values > thr).numpy()
    m_np = mask[:, 0].numpy() > 0.5
    gen_iou = float(np.mean([iou(painted[i], m_np[i]) for i in range(len(idx))]))
    real_delta = (from_np_uint8(ds.canv[ds.next[idx]]) - prev).abs().max(1).values.numpy() > thr
    real_iou = float(np.mean([iou(real_delta[i], m_np[i]) for i in range(len(idx))]))

    # --- shape generator against the world's shape for the same noise
    with torch.no_grad():
        q = len(ds.shape_mask) // 2
        sm = gens["shape"](F.one_hot(torch.from_numpy(ds.shape_cat[q:]), C).float(), torch.from_numpy(ds.shape_z[q:]))
    sm_np = sm[:, 0].numpy() > 0.5
    shape_iou = float(np.mean([iou(sm_np[i], ds.shape_mask[q + i]) for i in range(len(sm_np))]))
    per_cat_iou = {W.CATEGORIES[c]: round(float(np.mean([iou(sm_np[i], ds.shape_mask[q + i])
                                                          for i in range(len(sm_np)) if ds.shape_cat[q + i] == c])), 3)
                   for c in range(C)}

    # --- diversity: K seeds in the same mask
    K, n_div = 4, min(200, len(idx))
    sel = idx[:n_div]
    pv = from_np_uint8(ds.canv[ds.prev[sel]])
    mk = torch.from_numpy(ds.mask[sel]).float()[:, None]
    ct = F.one_hot(torch.from_numpy(ds.cat[sel]), C).float()
    outs, reals = [], []
    with torch.no_grad():
        for k in range(K):
            z = torch.from_numpy(rng.standard_normal((n_div, W.NOISE_FOREGROUND)).astype(np.float32))
            outs.append(gens["foreground"](pv, mk, ct, z))
    for k in range(K):  # the world's own diversity for the same masks
        imgs = []
        for j, i in enumerate(sel):
            s_cat = int(ds.cat[i])
            zr = rng.standard_normal(W.NOISE_FOREGROUND)
            canvas = ds.canv[ds.prev[i]].astype(np.float64) / 255.0
            a = W.params_from_noise(zr[:W.FG_PARAMS])
            style = int(ds.step_style[i])
            q_shape = W.params_from_noise(ds.shape_z[i][:W.SHAPE_PARAMS])  # shape_z[i] is step i's shape noise
            img, _ = W.paint_object(canvas, s_cat, q_shape, a, tuple(float(v) for v in ds.box[i]), style)
            imgs.append(W.to_uint8(img))
        reals.append(from_np_uint8(np.stack(imgs)))

    log(f"locality, shape and diversity samples done ({time.time() - t0:.0f}s)")

    def pairwise(xs: List[torch.Tensor]) -> float:
        d = []
        for a in range(K):
            for b in range(a + 1, K):
                d.append(((xs[a] - xs[b]).abs().mean(1, keepdim=True) * mk).sum((1, 2, 3)) / mk.sum((1, 2, 3)).clamp_min(1))
        return float(torch.stack(d).mean() / 2)  # in [0,1] pixel units

    div_gen, div_real = pairwise(outs), pairwise(reals)

    ev = {
        "samples": {"scenes": int(len(B)), "objects": int(len(idx)), "heldOutSeeds": f"{EVAL_SEED}+"},
        "features": "penultimate layer (64-d) of small CNNs trained on held-out procedural-world data (no pretrained network)",
        "frechet": {"backgrounds": round(fd_bg, 3), "backgroundsFloor": round(fd_bg_floor, 3),
                    "scenes": round(fd_sc, 3), "scenesFloor": round(fd_sc_floor, 3)},
        "classifier": {"realCropAccuracy": round(real_acc, 3), "generatedCropAccuracy": round(gen_acc, 3),
                       "generatedCropAccuracyWorldMasks": round(acc_mask, 3)},
        "locality": {"maxChangeOutsideDilatedMask": outside, "shareOfChangeInsideMask": round(share_in, 3)},
        "shape": {"paintedMaskIoU": round(gen_iou, 3), "paintedMaskIoUWorld": round(real_iou, 3),
                  "shapeGeneratorIoU": round(shape_iou, 3), "shapeGeneratorIoUPerCategory": per_cat_iou},
        "diversity": {"meanPairwiseL1": round(div_gen, 4), "meanPairwiseL1World": round(div_real, 4),
                      "seeds": K, "unit": "mean absolute difference inside the mask, pixel values in [0,1]"},
        "seconds": round(time.time() - t0, 1),
    }
    return ev


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=RUNS_DIR / "main")
    ap.add_argument("--scenes", type=int, default=2000)
    ap.add_argument("--classifier-steps", type=int, default=600)
    ap.add_argument("--manifest", type=Path, default=None, help="also write the figures into this manifest.json")
    a = ap.parse_args(argv)
    ev = evaluate(a.run, a.scenes, a.classifier_steps)
    (a.run / "evaluation.json").write_text(json.dumps(ev, indent=2))
    print(json.dumps(ev, indent=2))
    if a.manifest is not None:
        man = json.loads(a.manifest.read_text())
        man["evaluation"] = ev
        a.manifest.write_text(json.dumps(man, indent=2) + "\n")


if __name__ == "__main__":
    main()
