"""Train the three generators on the procedural world (CPU or GPU), with checkpoints and resume.

Losses (per generator): reconstruction against the world's rendering of the same parameters
(L1 + L1 on image gradients; BCE + Dice for shapes) plus hinge adversarial terms as in the paper:
background: a conditional global discriminator; foreground: a global discriminator on the canvas
(with the mask) and a local one on the object's crop (conditioned on the category);
shape: a conditional discriminator on the mask.

    /usr/bin/python3 -m strata_models.train --resolution 64 --minutes 80 --run runs/main [--resume]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from . import world as W
from .data import Dataset, cached
from .nets import BackgroundG, ForegroundG, PatchD, ShapeG, count_params, crop_boxes

RUNS_DIR = Path(__file__).resolve().parent.parent / "runs"
STAGES = ("shape", "background", "foreground")


@dataclass
class Config:
    resolution: int = 64
    shape_resolution: int = 32
    scenes: int = 20000
    seed: int = 0
    minutes: float = 80.0  # total training budget (wall time spent in training steps)
    split: Dict[str, float] = field(default_factory=lambda: {"shape": 0.08, "background": 0.30, "foreground": 0.62})
    batch: int = 16
    lr: float = 2e-4
    adv: float = 0.01
    ema: float = 0.999
    ckpt_seconds: float = 180.0
    log_every: int = 50
    threads: int = 2
    fg_width: int = 24
    device: str = "cpu"
    stage_minutes: Optional[Dict[str, float]] = None  # overrides minutes * split per stage (e.g. to extend one)


def to_t(img: np.ndarray) -> torch.Tensor:
    """uint8 [B,H,W,3] -> float [-1,1] [B,3,H,W]."""
    return torch.from_numpy(img).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def onehot(idx: np.ndarray, n: int) -> torch.Tensor:
    return F.one_hot(torch.from_numpy(np.asarray(idx, np.int64)), n).float()


def grad_l1(a: torch.Tensor, b: torch.Tensor, w: Optional[torch.Tensor] = None) -> torch.Tensor:
    dxa, dxb = a[..., :, 1:] - a[..., :, :-1], b[..., :, 1:] - b[..., :, :-1]
    dya, dyb = a[..., 1:, :] - a[..., :-1, :], b[..., 1:, :] - b[..., :-1, :]
    if w is None:
        return (dxa - dxb).abs().mean() + (dya - dyb).abs().mean()
    wx, wy = w[..., :, 1:], w[..., 1:, :]
    return ((dxa - dxb).abs() * wx).sum() / (wx.sum() * a.shape[1] + 1) + ((dya - dyb).abs() * wy).sum() / (wy.sum() * a.shape[1] + 1)


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


class Stage:
    """One generator with its discriminators, optimisers, EMA copy and counters."""

    def __init__(self, name: str, cfg: Config, ds: Dataset) -> None:
        self.name, self.cfg, self.ds = name, cfg, ds
        R, M = cfg.resolution, cfg.shape_resolution
        C, S = len(W.CATEGORIES), len(W.STYLES)
        if name == "background":
            self.G = BackgroundG(R, W.NOISE_BACKGROUND, S)
            self.Ds = torch.nn.ModuleDict({"global": PatchD(3, R, S)})
        elif name == "foreground":
            self.G = ForegroundG(R, W.NOISE_FOREGROUND, C, width=cfg.fg_width, dilation=W.DILATION)
            self.Ds = torch.nn.ModuleDict({"global": PatchD(4, R, 0), "local": PatchD(4, 32, C)})
        else:
            self.G = ShapeG(M, W.NOISE_SHAPE, C)
            self.Ds = torch.nn.ModuleDict({"global": PatchD(1, M, C)})
        self.ema = copy.deepcopy(self.G).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.optG = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=(0.5, 0.99))
        self.optD = torch.optim.Adam(self.Ds.parameters(), lr=cfg.lr, betas=(0.5, 0.99))
        self.step = 0
        self.seconds = 0.0
        self.images = 0
        self.rng = np.random.default_rng(cfg.seed * 10 + STAGES.index(name))

    # ---- state
    def state(self) -> dict:
        return {"G": self.G.state_dict(), "ema": self.ema.state_dict(), "Ds": self.Ds.state_dict(),
                "optG": self.optG.state_dict(), "optD": self.optD.state_dict(), "step": self.step,
                "seconds": self.seconds, "images": self.images, "rng": self.rng.bit_generator.state}

    def load(self, st: dict) -> None:
        self.G.load_state_dict(st["G"])
        self.ema.load_state_dict(st["ema"])
        self.Ds.load_state_dict(st["Ds"])
        self.optG.load_state_dict(st["optG"])
        self.optD.load_state_dict(st["optD"])
        self.step, self.seconds, self.images = st["step"], st["seconds"], st["images"]
        self.rng.bit_generator.state = st["rng"]

    # ---- one step
    def batch(self) -> dict:
        ds, B = self.ds, self.cfg.batch
        C, S = len(W.CATEGORIES), len(W.STYLES)
        if self.name == "background":
            i = self.rng.integers(len(ds.bg), size=B)
            return {"real": to_t(ds.bg[i]), "style": onehot(ds.style[i], S), "z": torch.from_numpy(ds.z_bg[i])}
        if self.name == "foreground":
            i = self.rng.integers(len(ds.prev), size=B)
            return {"canvas": to_t(ds.canv[ds.prev[i]]), "real": to_t(ds.canv[ds.next[i]]),
                    "mask": torch.from_numpy(ds.mask[i]).float()[:, None], "cat": onehot(ds.cat[i], C),
                    "z": torch.from_numpy(ds.z_fg[i]), "box": torch.from_numpy(ds.box[i])}
        i = self.rng.integers(len(ds.shape_mask), size=B)
        return {"real": torch.from_numpy(ds.shape_mask[i]).float()[:, None], "cat": onehot(ds.shape_cat[i], C),
                "z": torch.from_numpy(ds.shape_z[i])}

    def fake_and_rec(self, b: dict):
        if self.name == "background":
            out = self.G(b["z"], b["style"])
            rec = (out - b["real"]).abs().mean() + grad_l1(out, b["real"])
            return out, rec
        if self.name == "foreground":
            out = self.G(b["canvas"], b["mask"], b["cat"], b["z"])
            dil = F.max_pool2d(b["mask"], 2 * W.DILATION + 1, 1, W.DILATION)
            rec = ((out - b["real"]).abs() * dil).sum() / (dil.sum() * 3 + 1) + grad_l1(out, b["real"], dil)
            return out, rec
        logits = self.G.logits(b["cat"], b["z"])
        p = torch.sigmoid(logits)
        inter = (p * b["real"]).sum((1, 2, 3))
        dice = 1 - (2 * inter + 1) / (p.sum((1, 2, 3)) + b["real"].sum((1, 2, 3)) + 1)
        rec = F.binary_cross_entropy_with_logits(logits, b["real"]) + dice.mean()
        return p, rec

    def d_scores(self, x: torch.Tensor, b: dict) -> List[torch.Tensor]:
        if self.name == "background":
            return [self.Ds["global"](x, b["style"])]
        if self.name == "foreground":
            xm = torch.cat([x, b["mask"]], 1)
            return [self.Ds["global"](xm), self.Ds["local"](crop_boxes(xm, b["box"], 32), b["cat"])]
        return [self.Ds["global"](x, b["cat"])]

    def train_step(self) -> Dict[str, float]:
        b = self.batch()
        fake, rec = self.fake_and_rec(b)
        # discriminator
        d_loss = sum(hinge_d(r, f) for r, f in zip(self.d_scores(b["real"], b), self.d_scores(fake.detach(), b)))
        self.optD.zero_grad(set_to_none=True)
        d_loss.backward()
        self.optD.step()
        # generator
        g_adv = sum(-s.mean() for s in self.d_scores(fake, b))
        g_loss = rec + self.cfg.adv * g_adv
        self.optG.zero_grad(set_to_none=True)
        g_loss.backward()
        self.optG.step()
        with torch.no_grad():
            d = min(self.cfg.ema, (1 + self.step) / (10 + self.step))
            for pe, p in zip(self.ema.parameters(), self.G.parameters()):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)
            for be, bb in zip(self.ema.buffers(), self.G.buffers()):
                be.copy_(bb)
        self.step += 1
        self.images += self.cfg.batch
        return {"rec": float(rec), "adv": float(g_adv), "d": float(d_loss)}


def save_atomic(obj: object, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_generators(run: Path, cfg: Optional[Config] = None):
    """Load the EMA generators of a run: returns (cfg, {"background": G, "foreground": G, "shape": G})."""
    ck = torch.load(run / "generators.pt", map_location="cpu")
    cfg = cfg or Config(**ck["config"])
    R, M, C, S = cfg.resolution, cfg.shape_resolution, len(W.CATEGORIES), len(W.STYLES)
    gens = {"background": BackgroundG(R, W.NOISE_BACKGROUND, S),
            "foreground": ForegroundG(R, W.NOISE_FOREGROUND, C, width=cfg.fg_width, dilation=W.DILATION),
            "shape": ShapeG(M, W.NOISE_SHAPE, C)}
    for k, g in gens.items():
        g.load_state_dict(ck["generators"][k])
        g.eval()
    return cfg, gens


def train(cfg: Config, run: Path, resume: bool = False, log=print, cache_dir: Optional[Path] = None) -> dict:
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    run.mkdir(parents=True, exist_ok=True)
    logf = open(run / "log.txt", "a")

    def say(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        log(line)
        logf.write(line + "\n")
        logf.flush()

    t0 = time.time()
    ds = cached(cfg.scenes, cfg.resolution, cfg.shape_resolution, cfg.seed, cache_dir)
    say(f"data: {len(ds.bg)} scenes, {len(ds.prev)} object steps, {len(ds.shape_mask)} shapes at R={cfg.resolution} "
        f"(ready in {time.time() - t0:.0f}s)")
    stages = {n: Stage(n, cfg, ds) for n in STAGES}
    ck_path = run / "ckpt.pt"
    if resume and ck_path.exists():
        ck = torch.load(ck_path, map_location="cpu")
        for n, st in ck["stages"].items():
            stages[n].load(st)
        say(f"resumed from {ck_path}: " + ", ".join(f"{n} step {s.step}" for n, s in stages.items()))
    for n, s in stages.items():
        say(f"{n}: G {count_params(s.G):,} params, D {count_params(s.Ds):,} params")
    budget = {n: cfg.minutes * 60 * cfg.split[n] for n in STAGES}
    if cfg.stage_minutes:
        budget.update({n: 60.0 * m for n, m in cfg.stage_minutes.items()})

    def checkpoint() -> None:
        save_atomic({"config": asdict(cfg), "stages": {n: s.state() for n, s in stages.items()}}, ck_path)
        save_atomic({"config": asdict(cfg), "generators": {n: s.ema.state_dict() for n, s in stages.items()}},
                    run / "generators.pt")
        stats = {n: {"steps": s.step, "images": s.images, "seconds": round(s.seconds, 1),
                     "imagesPerSecond": round(s.images / max(s.seconds, 1e-9), 2)} for n, s in stages.items()}
        info = {"config": asdict(cfg), "stages": stats, "device": cfg.device,
                "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                            "threads": cfg.threads, "torch": torch.__version__},
                "images": sum(v["images"] for v in stats.values()),
                "seconds": round(sum(v["seconds"] for v in stats.values()), 1),
                "done": all(stages[n].seconds >= budget[n] for n in STAGES)}
        (run / "train.json").write_text(json.dumps(info, indent=2))

    last_ck = time.time()
    for n in STAGES:
        s = stages[n]
        s.G.train()
        win_t, win_i = time.time(), 0
        acc: Dict[str, float] = {}
        while s.seconds < budget[n]:
            ts = time.time()
            losses = s.train_step()
            s.seconds += time.time() - ts
            win_i += cfg.batch
            for k, v in losses.items():
                acc[k] = acc.get(k, 0.0) + v
            if s.step % cfg.log_every == 0:
                dt = time.time() - win_t
                left = sum(max(0.0, budget[m] - stages[m].seconds) for m in STAGES)
                say(f"[{n}] step {s.step} | {win_i / dt:.1f} img/s | "
                    + " ".join(f"{k} {v / cfg.log_every:.4f}" for k, v in acc.items())
                    + f" | stage {s.seconds / 60:.1f}/{budget[n] / 60:.1f} min | ETA {left / 60:.1f} min")
                win_t, win_i, acc = time.time(), 0, {}
            if time.time() - last_ck > cfg.ckpt_seconds:
                checkpoint()
                last_ck = time.time()
        checkpoint()
        say(f"[{n}] done: {s.step} steps, {s.images} images in {s.seconds / 60:.1f} min "
            f"({s.images / max(s.seconds, 1e-9):.1f} img/s)")
    checkpoint()
    say("training finished")
    logf.close()
    return json.loads((run / "train.json").read_text())


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--shape-resolution", type=int, default=32)
    ap.add_argument("--scenes", type=int, default=20000)
    ap.add_argument("--minutes", type=float, default=80.0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--run", type=Path, default=RUNS_DIR / "main")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--stage-minutes", default="", help="per-stage budgets, e.g. shape=6.8,background=37.5,foreground=52.7")
    a = ap.parse_args(argv)
    stage_minutes = {k: float(v) for k, v in (kv.split("=") for kv in a.stage_minutes.split(",") if kv)} or None
    cfg = Config(resolution=a.resolution, shape_resolution=a.shape_resolution, scenes=a.scenes, minutes=a.minutes,
                 batch=a.batch, seed=a.seed, threads=a.threads, stage_minutes=stage_minutes)
    train(cfg, a.run, resume=a.resume)


if __name__ == "__main__":
    main()
