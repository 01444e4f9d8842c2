"""Evaluate the exported v2 ONNX files (not a checkpoint) against the v2 world, and measure the claim.

    cd models/training && /usr/bin/python3 -m strata_models.v2.evaluate --models checkpoints/v2/export [--write-manifest]

The ONNX files run in onnxruntime-node (ortbridge.py: the server's runtime; no Python onnxruntime here),
the crop engine is engine.py.  Held-out world seeds 90000+ (training used seeds 0 .. scenes-1).
No pretrained network exists here: two small CNNs trained on half A of the held-out scenes stand in for
Inception (a scene classifier of style + categories present, on 64x64; an object classifier on 32x32 crops
of the box), so Frechet distances compare only with each other and with their floors.

Figures (evaluation.json):
  frechet          backgrounds / composed scenes (shape gen + crop foreground gen on B's layouts, fresh noise)
                   against real A, with the floors real A vs real B; the baseline's scenes for the same layouts
  classifier       object accuracy on real crops, on full-chain generated crops, with the world's masks, baseline
  locality         max change outside the dilated mask: on the canvas after paste (must be 0) and in the crop
  shape            IoU(painted, mask) generated vs world; shape generator IoU vs the world's shape for the same
                   noise; speck rate per category (share of masks > 0.5 with more than one 8-connected component)
  diversity        mean pairwise L1 inside the mask over 4 seeds, generated vs world
  claims           (issue 8 item 5) on seeded layouts: scale one object 1.3x, move one, reroll one; for strata and
                   the single-shot baseline the share of pixels that change outside the edited object's old and
                   new dilated regions and the largest change there (levels of 255)
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from . import world as W
from .data import build
from .engine import compose, crop_in, crop_mask, dilate, fit_mask, onehot
from .nets import layout_map
from .ortbridge import OrtBridge
from ..evaluate import SmallCNN, _feats, _fit, frechet, iou

EVAL_SEED = 90_000


class OnnxGens:
    """The v2 ONNX files as torch-in / torch-out callables for engine.compose."""

    def __init__(self, models: Path, ort: OrtBridge, batch: int = 64) -> None:
        self.dir, self.ort, self.bs = Path(models), ort, batch
        man = json.loads((self.dir / "manifest.json").read_text())
        self.man = man
        self.files = {k: self.dir / v["file"] for k, v in man["models"].items()}

    def _run(self, name: str, out: str, **inputs: torch.Tensor) -> torch.Tensor:
        n = next(iter(inputs.values())).shape[0]
        parts = []
        for i in range(0, n, self.bs):
            feeds = {k: v[i:i + self.bs].numpy() for k, v in inputs.items()}
            parts.append(torch.from_numpy(self.ort.run(self.files[name], feeds)[out]))
        return torch.cat(parts)

    def background(self, z, style):
        return self._run("background", "image", z=z, style=style)

    def foreground(self, crop, mask, category, z, light):
        return self._run("foreground", "image", crop=crop, mask=mask, category=category, z=z, light=light)

    def shape(self, category, z):
        return self._run("shape", "mask", category=category, z=z)

    def baseline(self, layout, z, style):
        return self._run("baseline", "image", layout=layout, z=z, style=style)

    def as_dict(self) -> dict:
        return {"background": self.background, "foreground": self.foreground, "shape": self.shape}


def _t(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(0, 3, 1, 2).float() / 127.5 - 1


def _box_crops(crops: torch.Tensor) -> torch.Tensor:
    """The box part (central 3/4) of K x K crops, at 32 x 32: what the object classifier sees."""
    K = crops.shape[-1]
    a, e = K // 8, K - K // 8
    return F.interpolate(crops[:, :, a:e, a:e], size=32, mode="bilinear", align_corners=False)


def _labels_from_masks(masks: List[torch.Tensor], cats: List[List[int]], R: int) -> torch.Tensor:
    B = masks[0].shape[0] if masks else 0
    lab = torch.zeros(B, R, R, dtype=torch.long)
    for m, c in zip(masks, cats):
        lab = torch.where(m[:, 0] > 0.5, torch.as_tensor(c).view(-1, 1, 1) + 1, lab)
    return lab


def _scene_groups(ds) -> Dict[int, List[int]]:
    steps = [[] for _ in range(len(ds.bg))]
    for i, s in enumerate(ds.scene):
        steps[int(s)].append(i)
    return steps


def grid_layout(rng: np.random.Generator, R: int):
    """8 objects in a 4 x 2 grid of cells whose crop windows never overlap, even after a 1.3x scale or a small move."""
    st = int(rng.integers(len(W.STYLES)))
    z_bg = rng.standard_normal(W.NOISE_BACKGROUND).astype(np.float32)
    objs = []
    for row, bottom in enumerate((0.72, 0.97)):
        for col in range(4):
            c = int(rng.integers(len(W.CATEGORIES)))
            hf, wf = W.BOX[W.CATEGORIES[c]]
            h = 0.11
            w = min(0.125, h * wf / hf)
            base = bottom - 0.03
            cx = 0.125 + 0.25 * col
            objs.append((c, [cx - w / 2, base - h, w, h], rng.standard_normal(W.NOISE_SHAPE).astype(np.float32),
                         rng.standard_normal(W.NOISE_FOREGROUND).astype(np.float32)))
    return st, z_bg, objs


def claims(g: OnnxGens, n_layouts: int, R: int, K: int, log=print, kind_of_layout: str = "world") -> dict:
    """Scale / move / reroll one object in seeded layouts; changes outside its regions for strata and the baseline.

    kind_of_layout "world": the world's random layouts of 4 objects (crops often overlap: a later object whose crop
    overlaps the edit is re-inferred and changes inside its own dilated mask); "grid": 8 objects whose crops never
    overlap (issue 8 item 3: nothing outside the edited object's regions may change).
    """
    C, S = len(W.CATEGORIES), len(W.STYLES)
    rng = np.random.default_rng(EVAL_SEED + 7 + (kind_of_layout == "grid"))
    gens = g.as_dict()
    res = {k: {"strata": [], "baseline": [], "strataMax": 0.0, "baselineMax": 0.0, "laterReinferred": [],
               "strataMaxBeyond": 0.0} for k in ("scale", "move", "reroll")}

    def layers_of(ob):
        return [([c], torch.tensor([b], dtype=torch.float32), torch.from_numpy(zs)[None], torch.from_numpy(zf)[None])
                for c, b, zs, zf in ob]

    for L in range(n_layouts):
        if kind_of_layout == "grid":
            style, z_bg, objs = grid_layout(rng, R)
        else:
            sc = W.render_scene(EVAL_SEED + 700 + L, R, n_objects=4)
            style, z_bg = sc.style, sc.z_bg
            objs = [(o.category, list(o.box), o.z_shape, o.z_fg) for o in sc.objects]
        j = int(rng.integers(len(objs)))
        zb = torch.from_numpy(z_bg)[None]
        canv0, m0, crops0 = compose(gens, [style], zb, layers_of(objs), return_crops=True, crop=K)
        lab0 = _labels_from_masks(m0, [[o[0]] for o in objs], R)
        base0 = g.baseline(layout_map(lab0, C), zb, onehot([style], S))
        for kind in ("scale", "move", "reroll"):
            ob = [list(o) for o in objs]
            c, b, zs, zf = ob[j]
            if kind == "scale":
                w, h = b[2] * 1.3, b[3] * 1.3
                b = [b[0] + b[2] / 2 - w / 2, b[1] + b[3] - h, w, h]  # about the base centre
            elif kind == "move":
                step = 0.02 if kind_of_layout == "grid" else 0.15
                dx = step if b[0] + b[2] / 2 < 0.5 else -step
                b = [b[0] + dx, b[1], b[2], b[3]]
            else:
                zf = rng.standard_normal(W.NOISE_FOREGROUND).astype(np.float32)
            ob[j] = [c, b, zs, zf]
            canv1, m1, crops1 = compose(gens, [style], zb, layers_of(ob), return_crops=True, crop=K)
            region = (dilate(m0[j]) > 0.5) | (dilate(m1[j]) > 0.5)
            outside = ~region[:, 0]
            d = (canv1[-1] - canv0[-1]).abs().amax(1)  # [1,R,R]
            res[kind]["strata"].append(float((d[outside] > 0).float().mean()))
            res[kind]["strataMax"] = max(res[kind]["strataMax"], float(d[outside].max()) * 127.5)
            redo = [k for k in range(j + 1, len(objs)) if not torch.equal(crops0[k][0], crops1[k][0])]
            res[kind]["laterReinferred"].append(len(redo))
            beyond = region.clone()
            for k in redo:
                beyond |= (dilate(m0[k]) > 0.5) | (dilate(m1[k]) > 0.5)
            if (~beyond).any():
                res[kind]["strataMaxBeyond"] = max(res[kind]["strataMaxBeyond"], float(d[~beyond[:, 0]].max()) * 127.5)
            lab1 = _labels_from_masks(m1, [[o[0]] for o in ob], R)
            zb1 = zb if kind != "reroll" else torch.from_numpy(rng.standard_normal((1, W.NOISE_BACKGROUND)).astype(np.float32))
            base1 = g.baseline(layout_map(lab1, C), zb1, onehot([style], S))
            db = (base1 - base0).abs().amax(1)
            # changes of at least one level of 255 count (the baseline's output is a float image)
            res[kind]["baseline"].append(float((db[outside] * 127.5 >= 1).float().mean()))
            res[kind]["baselineMax"] = max(res[kind]["baselineMax"], float(db[outside].max()) * 127.5)
    out = {}
    for kind, r in res.items():
        out[kind] = {"strataShareChangedOutside": round(float(np.mean(r["strata"])), 5),
                     "strataMaxChangeOutside": round(r["strataMax"], 2),
                     "strataMaxChangeOutsideEditedAndReinferred": round(r["strataMaxBeyond"], 2),
                     "baselineShareChangedOutside": round(float(np.mean(r["baseline"])), 5),
                     "baselineMaxChangeOutside": round(r["baselineMax"], 2),
                     "laterObjectsReinferredMean": round(float(np.mean(r["laterReinferred"])), 2)}
    out["layouts"] = n_layouts
    out["objectsPerLayout"] = 8 if kind_of_layout == "grid" else 4
    return out


CLAIMS_NOTE = ("regions = the edited object's old and new masks dilated by 2 px; share = pixels outside them that change "
               "(any change for strata, >= 1 level of 255 for the baseline's float output), max in levels of 255; strata "
               "re-renders every step with the same seeds, and a later object is re-inferred only when its crop input "
               "changed (laterObjectsReinferredMean); strataMaxChangeOutsideEditedAndReinferred must be 0; baseline: same "
               "noise except for 'reroll', where its one noise vector is redrawn (it has no per-object noise); 'grid': 8 "
               "objects whose crops never overlap, 'world': the world's layouts of 4 objects")


def evaluate(models: Path, n_scenes: int = 1000, classifier_steps: int = 600, n_layouts: int = 12, log=print,
             threads: int = 1, shapes_per_category: int = 100) -> dict:
    torch.set_num_threads(threads)
    t0 = time.time()
    C, S = len(W.CATEGORIES), len(W.STYLES)
    with OrtBridge(threads=threads) as ort:
        g = OnnxGens(models, ort)
        man = g.man
        R, K, M = man["resolution"], man["foreground"]["crop"]["size"], man["shapeResolution"]
        ds = build(n_scenes, R, M, K, seed_base=EVAL_SEED, log=None)
        steps_of = _scene_groups(ds)
        half = len(ds.bg) // 2
        A, B = np.arange(half), np.arange(half, len(ds.bg))
        log(f"eval data: {len(ds.bg)} scenes, {len(ds.cat)} objects ({time.time() - t0:.0f}s)")

        torch.manual_seed(0)
        small = lambda x: F.adaptive_avg_pool2d(x, 64) if x.shape[-1] > 64 else x  # noqa: E731
        scenes_x, bgs_x = small(_t(ds.final)), small(_t(ds.bg))
        y = torch.zeros(len(ds.bg), S + C)
        for s in range(len(ds.bg)):
            y[s, ds.style[s]] = 1
            for i in steps_of[s]:
                y[s, S + ds.cat[i]] = 1
        scene_net = SmallCNN(scenes_x.shape[-1], S + C)
        xa = torch.cat([scenes_x[A], bgs_x[A]])
        ya = torch.cat([y[A], torch.cat([y[A, :S], torch.zeros(len(A), C)], 1)])
        _fit(scene_net, xa, ya, F.binary_cross_entropy_with_logits, classifier_steps)
        obj_A = np.array([i for s in A for i in steps_of[s]])
        obj_B = np.array([i for s in B for i in steps_of[s]])
        crops_real = _box_crops(_t(ds.crop_next))
        cat_t = torch.from_numpy(ds.cat)
        obj_net = SmallCNN(32, C)
        _fit(obj_net, crops_real[obj_A], cat_t[obj_A], F.cross_entropy, classifier_steps)
        with torch.no_grad():
            real_acc = float((obj_net(crops_real[obj_B]).argmax(1) == cat_t[obj_B]).float().mean())
        log(f"classifiers ({time.time() - t0:.0f}s): real crop accuracy {real_acc:.3f}")

        rng = np.random.default_rng(1)
        # backgrounds
        zb = torch.from_numpy(rng.standard_normal((len(B), W.NOISE_BACKGROUND)).astype(np.float32))
        gen_bg = g.background(zb, onehot(ds.style[B], S))
        fA = _feats(scene_net, bgs_x[A])
        fd_bg, fd_bg_floor = frechet(fA, _feats(scene_net, small(gen_bg))), frechet(fA, _feats(scene_net, bgs_x[B]))

        # composed scenes on B's layouts (fresh shape + appearance noise), the baseline on the same layouts
        gen_final = torch.zeros(len(B), 3, R, R)
        base_final = torch.zeros(len(B), 3, R, R)
        gen_crops, gen_cats, base_crops = [], [], []
        max_out = 0.0
        by_len: Dict[int, List[int]] = {}
        for jj, s in enumerate(B):
            by_len.setdefault(len(steps_of[s]), []).append(jj)
        for T, js in by_len.items():
            sids = [int(B[jj]) for jj in js]
            layers = []
            for t in range(T):
                idx = [steps_of[s][t] for s in sids]
                layers.append((ds.cat[idx].tolist(), torch.from_numpy(ds.box[idx]),
                               torch.from_numpy(rng.standard_normal((len(idx), W.NOISE_SHAPE)).astype(np.float32)),
                               torch.from_numpy(rng.standard_normal((len(idx), W.NOISE_FOREGROUND)).astype(np.float32))))
            z = torch.from_numpy(rng.standard_normal((len(sids), W.NOISE_BACKGROUND)).astype(np.float32))
            canv, used = compose(g.as_dict(), ds.style[sids].tolist(), z, layers, crop=K)
            gen_final[js] = canv[-1]
            for t in range(T):
                keep = dilate(used[t]) <= 0.5
                dlt = (canv[t + 1] - canv[t]).abs()
                if keep.any():
                    max_out = max(max_out, float(dlt.masked_select(keep.expand_as(dlt)).max()))
                gen_crops.append(_box_crops(crop_in(canv[t + 1], layers[t][1], K)))
                gen_cats.append(torch.as_tensor(layers[t][0]))
            lab = _labels_from_masks(used, [l[0] for l in layers], R)
            bimg = g.baseline(layout_map(lab, C), z, onehot(ds.style[sids], S))
            base_final[js] = bimg
            for t in range(T):
                base_crops.append(_box_crops(crop_in(bimg, layers[t][1], K)))
        fsA = _feats(scene_net, scenes_x[A])
        fd_sc = frechet(fsA, _feats(scene_net, small(gen_final)))
        fd_sc_floor = frechet(fsA, _feats(scene_net, scenes_x[B]))
        fd_base = frechet(fsA, _feats(scene_net, small(base_final)))
        with torch.no_grad():
            gcat = torch.cat(gen_cats)
            gen_acc = float((obj_net(torch.cat(gen_crops)).argmax(1) == gcat).float().mean())
            base_acc = float((obj_net(torch.cat(base_crops)).argmax(1) == gcat).float().mean())
        log(f"backgrounds, scenes, baseline ({time.time() - t0:.0f}s)")

        # foreground with the world's crop masks (half B)
        idx = obj_B
        cin = _t(ds.crop_prev[idx])
        mk = torch.from_numpy(ds.crop_mask[idx]).float()[:, None]
        cat = onehot(ds.cat[idx], C)
        light = torch.from_numpy(ds.light[ds.scene[idx]])
        zf = torch.from_numpy(rng.standard_normal((len(idx), W.NOISE_FOREGROUND)).astype(np.float32))
        out = g.foreground(cin, mk, cat, zf, light)
        with torch.no_grad():
            acc_mask = float((obj_net(_box_crops(out)).argmax(1) == cat_t[idx]).float().mean())
        keep = dilate(mk) <= 0.5
        dlt = (out - cin).abs()
        crop_out = float(dlt.masked_select(keep.expand_as(dlt)).max()) if keep.any() else 0.0
        thr = 2 * 12.0 / 255.0
        painted = (dlt.amax(1) > thr).numpy()
        m_np = mk[:, 0].numpy() > 0.5
        gen_iou = float(np.mean([iou(painted[i], m_np[i]) for i in range(len(idx))]))
        real_p = (_t(ds.crop_next[idx]) - cin).abs().amax(1).numpy() > thr
        real_iou = float(np.mean([iou(real_p[i], m_np[i]) for i in range(len(idx))]))

        # diversity: 4 seeds in the same mask, generated and world
        Kd, nd = 4, min(200, len(idx))
        sel = idx[:nd]
        outs, reals = [], []
        for _ in range(Kd):
            z = torch.from_numpy(rng.standard_normal((nd, W.NOISE_FOREGROUND)).astype(np.float32))
            outs.append(g.foreground(cin[:nd], mk[:nd], cat[:nd], z, light[:nd]))
            imgs = []
            for i in sel:
                a = W.params_from_noise(rng.standard_normal(W.NOISE_FOREGROUND)[:W.FG_PARAMS])
                q = W.params_from_noise(ds.z_shape[i][:W.SHAPE_PARAMS])
                im, _ = W.paint_object(ds.crop_prev[i].astype(np.float64) / 255.0, int(ds.cat[i]), q, a, W.crop_box(K),
                                       int(ds.style[ds.scene[i]]))
                imgs.append(W.to_uint8(im))
            reals.append(_t(np.stack(imgs)))
        mkd = mk[:nd]

        def pairwise(xs):
            d = [((xs[a] - xs[b]).abs().mean(1, keepdim=True) * mkd).sum((1, 2, 3)) / mkd.sum((1, 2, 3)).clamp_min(1)
                 for a in range(Kd) for b in range(a + 1, Kd)]
            return float(torch.stack(d).mean() / 2)

        div_gen, div_real = pairwise(outs), pairwise(reals)

        # shapes: IoU with the world's shape for the same noise, specks per category
        per_cat, specks = {}, {}
        n_per = shapes_per_category
        for c in range(C):
            z = rng.standard_normal((n_per, W.NOISE_SHAPE)).astype(np.float32)
            m = g.shape(onehot([c] * n_per, C), torch.from_numpy(z))[:, 0].numpy() > 0.5
            world = [W.shape_mask(c, W.params_from_noise(z[i, :W.SHAPE_PARAMS]), M) for i in range(n_per)]
            per_cat[W.CATEGORIES[c]] = round(float(np.mean([iou(m[i], world[i]) for i in range(n_per)])), 3)
            specks[W.CATEGORIES[c]] = round(float(np.mean([W.components(m[i]) > 1 for i in range(n_per)])), 3)
        log(f"foreground, diversity, shapes ({time.time() - t0:.0f}s)")

        cl = {"grid": claims(g, n_layouts, R, K, log, "grid"), "world": claims(g, n_layouts, R, K, log, "world"),
              "note": CLAIMS_NOTE}
        log(f"claims ({time.time() - t0:.0f}s)")

    return {
        "models": man.get("version"),
        "samples": {"scenes": int(len(B)), "objects": int(len(idx)), "heldOutSeeds": f"{EVAL_SEED}+"},
        "runtime": "onnxruntime-node (the exported ONNX files), crop engine strata_models/v2/engine.py",
        "features": "penultimate layer (64-d) of small CNNs trained on held-out v2 world data (no pretrained network)",
        "frechet": {"backgrounds": round(fd_bg, 3), "backgroundsFloor": round(fd_bg_floor, 3),
                    "scenes": round(fd_sc, 3), "scenesFloor": round(fd_sc_floor, 3), "baselineScenes": round(fd_base, 3)},
        "classifier": {"realCropAccuracy": round(real_acc, 3), "generatedCropAccuracy": round(gen_acc, 3),
                       "generatedCropAccuracyWorldMasks": round(acc_mask, 3), "baselineCropAccuracy": round(base_acc, 3)},
        "locality": {"maxChangeOutsideDilatedMask": max_out, "maxChangeOutsideDilatedCropMask": crop_out},
        "shape": {"paintedMaskIoU": round(gen_iou, 3), "paintedMaskIoUWorld": round(real_iou, 3),
                  "shapeGeneratorIoUPerCategory": per_cat,
                  "shapeGeneratorIoU": round(float(np.mean(list(per_cat.values()))), 3),
                  "speckRatePerCategory": specks},
        "diversity": {"meanPairwiseL1": round(div_gen, 4), "meanPairwiseL1World": round(div_real, 4), "seeds": Kd},
        "claims": cl,
        "seconds": round(time.time() - t0, 1),
    }


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, default=Path(__file__).resolve().parents[2] / "checkpoints" / "v2" / "export")
    ap.add_argument("--scenes", type=int, default=1000)
    ap.add_argument("--classifier-steps", type=int, default=600)
    ap.add_argument("--layouts", type=int, default=12)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write-manifest", action="store_true", help="write the figures into the manifest next to the models")
    a = ap.parse_args(argv)
    ev = evaluate(a.models, a.scenes, a.classifier_steps, a.layouts, threads=a.threads)
    (a.models / "evaluation.json").write_text(json.dumps(ev, indent=2))
    print(json.dumps(ev, indent=2))
    if a.write_manifest:
        p = a.models / "manifest.json"
        man = json.loads(p.read_text())
        man["evaluation"] = ev
        p.write_text(json.dumps(man, indent=2) + "\n")


if __name__ == "__main__":
    main()
