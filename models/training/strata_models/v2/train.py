"""Train the v2 generators (shape, background, object-centric foreground; then the single-shot baseline).

Long CPU runs: the main stages are interleaved (round robin by their share of the budget, so every net
improves together and any checkpoint is usable), the baseline runs after them.  Everything goes to
--run (default models/training/checkpoints/v2/):
  ckpt.pt          full resumable state (weights, EMA, discriminators, optimisers, counters, RNG), every --ckpt-minutes
  ckpt-slim.pt     compact resumable state for committing (EMA fp32, G and D bf16, no optimiser moments);
                   written by ``--write-slim``; loaded when ckpt.pt is absent (Adam restarts)
  generators.pt    the EMA generators (what export.py reads)
  losses.csv       one row per --log-every steps per stage
  log.txt          progress lines
  samples/         a sample sheet every --sample-minutes (latest.png and sheet-<steps>.png)
  train.json       throughput and counters

    cd models/training && OMP_NUM_THREADS=1 nohup nice -n 19 /usr/bin/python3 -m strata_models.v2.train \\
        --minutes 600 >> checkpoints/v2/nohup.log 2>&1 &

Rerunning the same command resumes (``--fresh`` starts over).  One thread (torch.set_num_threads(1)).
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
from .data import Dataset2, cached
from .engine import LIGHT_DIM
from .nets import BackgroundG2, BaselineG, ForegroundG2, PatchD, ShapeG, count_params, layout_map
from ..train import grad_l1, hinge_d, onehot, save_atomic, to_t

RUN_DIR = Path(__file__).resolve().parents[2] / "checkpoints" / "v2"
MAIN_STAGES = ("shape", "background", "foreground")
STAGES = MAIN_STAGES + ("baseline",)


@dataclass
class Config2:
    resolution: int = 128
    crop: int = W.CROP
    shape_resolution: int = 64
    scenes: int = 10000
    seed: int = 0
    minutes: float = 600.0
    split: Dict[str, float] = field(default_factory=lambda: {"shape": 0.08, "background": 0.32, "foreground": 0.45,
                                                             "baseline": 0.15})
    batch: int = 16
    lr: float = 2e-4
    adv: Dict[str, float] = field(default_factory=lambda: {"shape": 0.05, "background": 0.03, "foreground": 0.05,
                                                           "baseline": 0.03})
    ema: float = 0.999
    ckpt_seconds: float = 240.0
    sample_seconds: float = 600.0
    log_every: int = 25
    threads: int = 1
    bg_width: int = 16
    fg_width: int = 24
    shape_width: int = 16
    baseline_width: int = 16
    cap: int = 128
    d_width: int = 16
    device: str = "cpu"


_INTEROP_SET = False
ARCH_KEYS = ("resolution", "crop", "shape_resolution", "bg_width", "fg_width", "shape_width", "baseline_width", "cap",
             "d_width")


def build_generator(name: str, cfg: Config2) -> torch.nn.Module:
    C, S = len(W.CATEGORIES), len(W.STYLES)
    if name == "background":
        return BackgroundG2(cfg.resolution, W.NOISE_BACKGROUND, S, width=cfg.bg_width, cap=cfg.cap)
    if name == "foreground":
        return ForegroundG2(cfg.crop, W.NOISE_FOREGROUND, C, LIGHT_DIM, width=cfg.fg_width, cap=cfg.cap, dilation=W.DILATION)
    if name == "shape":
        return ShapeG(cfg.shape_resolution, W.NOISE_SHAPE, C, width=cfg.shape_width)
    return BaselineG(cfg.resolution, W.NOISE_BACKGROUND, C, S, width=cfg.baseline_width, cap=cfg.cap)


def local_res(crop: int) -> int:
    return 32 if crop >= 32 else crop


class Stage2:
    def __init__(self, name: str, cfg: Config2, ds: Optional[Dataset2]) -> None:
        self.name, self.cfg, self.ds = name, cfg, ds
        R, K, M = cfg.resolution, cfg.crop, cfg.shape_resolution
        C, S = len(W.CATEGORIES), len(W.STYLES)
        self.G = build_generator(name, cfg)
        dw = cfg.d_width
        if name == "background":
            Ds = {"global": PatchD(3, R, S, width=dw)}
        elif name == "foreground":
            Ds = {"crop": PatchD(4, K, S, width=2 * dw), "local": PatchD(4, local_res(K), C, width=2 * dw)}
        elif name == "shape":
            Ds = {"global": PatchD(1, M, C, width=2 * dw)}
        else:
            Ds = {"global": PatchD(3 + C, R, S, width=dw)}
        self.Ds = torch.nn.ModuleDict(Ds)
        self.ema = copy.deepcopy(self.G).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.optG = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=(0.5, 0.99))
        self.optD = torch.optim.Adam(self.Ds.parameters(), lr=cfg.lr, betas=(0.5, 0.99))
        self.step, self.seconds, self.images = 0, 0.0, 0
        self.rng = np.random.default_rng(cfg.seed * 10 + STAGES.index(name))

    # ---- state
    def state(self) -> dict:
        return {"G": self.G.state_dict(), "ema": self.ema.state_dict(), "Ds": self.Ds.state_dict(),
                "optG": self.optG.state_dict(), "optD": self.optD.state_dict(), "step": self.step,
                "seconds": self.seconds, "images": self.images, "rng": self.rng.bit_generator.state}

    def slim_state(self) -> dict:
        half = lambda sd: {k: (v.to(torch.bfloat16) if v.is_floating_point() else v) for k, v in sd.items()}  # noqa: E731
        return {"G": half(self.G.state_dict()), "ema": self.ema.state_dict(), "Ds": half(self.Ds.state_dict()),
                "step": self.step, "seconds": self.seconds, "images": self.images, "rng": self.rng.bit_generator.state}

    def load(self, st: dict) -> None:
        full = lambda sd: {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}  # noqa: E731
        self.G.load_state_dict(full(st["G"]))
        self.ema.load_state_dict(st["ema"])
        self.Ds.load_state_dict(full(st["Ds"]))
        if "optG" in st:
            self.optG.load_state_dict(st["optG"])
            self.optD.load_state_dict(st["optD"])
        self.step, self.seconds, self.images = st["step"], st["seconds"], st["images"]
        self.rng.bit_generator.state = st["rng"]

    # ---- data
    def batch(self) -> dict:
        ds, B = self.ds, self.cfg.batch
        C, S = len(W.CATEGORIES), len(W.STYLES)
        if self.name == "background":
            i = self.rng.integers(len(ds.bg), size=B)
            return {"real": to_t(ds.bg[i]), "style": onehot(ds.style[i], S), "z": torch.from_numpy(ds.z_bg[i])}
        if self.name == "foreground":
            i = self.rng.integers(len(ds.cat), size=B)
            sc = ds.scene[i]
            return {"crop": to_t(ds.crop_prev[i]), "real": to_t(ds.crop_next[i]),
                    "mask": torch.from_numpy(ds.crop_mask[i]).float()[:, None], "cat": onehot(ds.cat[i], C),
                    "z": torch.from_numpy(ds.z_fg[i]), "light": torch.from_numpy(ds.light[sc]),
                    "style": onehot(ds.style[sc], S)}
        if self.name == "shape":
            i = self.rng.integers(len(ds.shape_mask), size=B)
            return {"real": torch.from_numpy(ds.shape_mask[i]).float()[:, None], "cat": onehot(ds.shape_cat[i], C),
                    "z": torch.from_numpy(ds.shape_z[i])}
        i = self.rng.integers(len(ds.final), size=B)
        return {"real": to_t(ds.final[i]), "layout": layout_map(torch.from_numpy(ds.labels[i]), C),
                "z": torch.from_numpy(ds.z_bg[i]), "style": onehot(ds.style[i], S)}

    def fake_and_rec(self, b: dict):
        if self.name == "background":
            out = self.G(b["z"], b["style"])
            return out, (out - b["real"]).abs().mean() + grad_l1(out, b["real"])
        if self.name == "foreground":
            out = self.G(b["crop"], b["mask"], b["cat"], b["z"], b["light"])
            dil = F.max_pool2d(b["mask"], 2 * W.DILATION + 1, 1, W.DILATION)
            rec = ((out - b["real"]).abs() * dil).sum() / (dil.sum() * 3 + 1) + grad_l1(out, b["real"], dil)
            return out, rec
        if self.name == "shape":
            logits = self.G.logits(b["cat"], b["z"])
            p = torch.sigmoid(logits)
            inter = (p * b["real"]).sum((1, 2, 3))
            dice = 1 - (2 * inter + 1) / (p.sum((1, 2, 3)) + b["real"].sum((1, 2, 3)) + 1)
            return p, F.binary_cross_entropy_with_logits(logits, b["real"]) + dice.mean()
        out = self.G(b["layout"], b["z"], b["style"])
        return out, (out - b["real"]).abs().mean() + grad_l1(out, b["real"])

    def d_scores(self, x: torch.Tensor, b: dict) -> List[torch.Tensor]:
        if self.name == "background":
            return [self.Ds["global"](x, b["style"])]
        if self.name == "foreground":
            K = x.shape[2]
            xm = torch.cat([x, b["mask"]], 1)
            a, e = K // 8, K - K // 8  # the box: the central 3/4 of the crop
            loc = F.interpolate(xm[:, :, a:e, a:e], size=local_res(K), mode="bilinear", align_corners=False)
            return [self.Ds["crop"](xm, b["style"]), self.Ds["local"](loc, b["cat"])]
        if self.name == "shape":
            return [self.Ds["global"](x, b["cat"])]
        return [self.Ds["global"](torch.cat([x, b["layout"]], 1), b["style"])]

    def train_step(self) -> Dict[str, float]:
        b = self.batch()
        fake, rec = self.fake_and_rec(b)
        d_loss = sum(hinge_d(r, f) for r, f in zip(self.d_scores(b["real"], b), self.d_scores(fake.detach(), b)))
        self.optD.zero_grad(set_to_none=True)
        d_loss.backward()
        self.optD.step()
        g_adv = sum(-s.mean() for s in self.d_scores(fake, b))
        g_loss = rec + self.cfg.adv[self.name] * g_adv
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


def load_generators(run: Path, path: Optional[Path] = None):
    """The EMA generators of a run: (cfg, {name: module}) from generators.pt (or a ckpt / slim ckpt)."""
    p = path or (run / "generators.pt")
    if not p.exists():
        p = run / "ckpt.pt" if (run / "ckpt.pt").exists() else run / "ckpt-slim.pt"
    ck = torch.load(p, map_location="cpu")
    cfg = Config2(**ck["config"])
    gens = {}
    torch.manual_seed(cfg.seed)  # a stage missing from a slim checkpoint (not started yet) gets the seeded init
    for n in STAGES:
        g = build_generator(n, cfg)
        sd = ck["generators"].get(n) if "generators" in ck else ck["stages"].get(n, {}).get("ema")
        if sd is not None:
            g.load_state_dict(sd)
        gens[n] = g.eval()
    return cfg, gens


def _budgets(cfg: Config2) -> Dict[str, float]:
    return {n: cfg.minutes * 60 * cfg.split[n] for n in STAGES}


def _pick(stages: Dict[str, Stage2], budget: Dict[str, float]) -> Optional[str]:
    open_ = [n for n in MAIN_STAGES if stages[n].seconds < budget[n]]
    if open_:
        return min(open_, key=lambda n: stages[n].seconds / max(budget[n], 1e-9))
    return "baseline" if stages["baseline"].seconds < budget["baseline"] else None


def train(cfg: Config2, run: Path = RUN_DIR, fresh: bool = False, log=print, cache_dir: Optional[Path] = None,
          sheets: bool = True, max_seconds: Optional[float] = None) -> dict:
    torch.set_num_threads(cfg.threads)
    global _INTEROP_SET
    if not _INTEROP_SET:  # may be set once per process (a second call aborts it)
        _INTEROP_SET = True
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    torch.manual_seed(cfg.seed)
    run.mkdir(parents=True, exist_ok=True)
    logf = open(run / "log.txt", "a")

    def say(msg: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
        log(line)
        logf.write(line + "\n")
        logf.flush()

    t0 = time.time()
    ds = cached(cfg.scenes, cfg.resolution, cfg.shape_resolution, cfg.crop, cfg.seed, cache_dir, log=say)
    say(f"data: {len(ds.bg)} scenes, {len(ds.cat)} object crops, {len(ds.shape_mask)} shapes at R={cfg.resolution}, "
        f"crop {cfg.crop}, shapes {cfg.shape_resolution} (ready in {time.time() - t0:.0f}s)")
    stages = {n: Stage2(n, cfg, ds) for n in STAGES}
    ck_path, slim_path = run / "ckpt.pt", run / "ckpt-slim.pt"
    src = ck_path if ck_path.exists() else (slim_path if slim_path.exists() else None)
    if src is not None and not fresh:
        ck = torch.load(src, map_location="cpu")
        old = ck["config"]
        bad = [k for k in ARCH_KEYS if old.get(k) != getattr(cfg, k)]
        if bad:
            raise SystemExit(f"{src} was trained with other architecture settings ({', '.join(f'{k}={old.get(k)}' for k in bad)}); "
                             "pass the same settings or --fresh")
        for n, st in ck["stages"].items():
            stages[n].load(st)
        say(f"resumed from {src.name}: " + ", ".join(f"{n} step {s.step}" for n, s in stages.items()))
    for n, s in stages.items():
        say(f"{n}: G {count_params(s.G):,} params, D {count_params(s.Ds):,} params")
    budget = _budgets(cfg)

    csv = run / "losses.csv"
    if not csv.exists():
        csv.write_text("time,stage,step,images,stage_seconds,images_per_second,rec,adv,d\n")

    def info() -> dict:
        stats = {n: {"steps": s.step, "images": s.images, "seconds": round(s.seconds, 1),
                     "imagesPerSecond": round(s.images / max(s.seconds, 1e-9), 2),
                     "budgetSeconds": round(budget[n], 1)} for n, s in stages.items()}
        return {"config": asdict(cfg), "stages": stats, "device": cfg.device,
                "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                            "threads": cfg.threads, "torch": torch.__version__},
                "images": sum(v["images"] for v in stats.values()),
                "seconds": round(sum(v["seconds"] for v in stats.values()), 1),
                "done": _pick(stages, budget) is None}

    def checkpoint() -> None:
        save_atomic({"config": asdict(cfg), "stages": {n: s.state() for n, s in stages.items()}}, ck_path)
        save_atomic({"config": asdict(cfg), "generators": {n: s.ema.state_dict() for n, s in stages.items()}},
                    run / "generators.pt")
        (run / "train.json").write_text(json.dumps(info(), indent=2))

    def sample() -> None:
        if not sheets:
            return
        from .sheets import training_sheet
        steps = sum(s.step for s in stages.values())
        out = run / "samples"
        out.mkdir(exist_ok=True)
        try:
            img = training_sheet({n: s.ema for n, s in stages.items()}, cfg)
            img.save(out / f"sheet-{steps:07d}.png")
            img.save(out / "latest.png")
        except Exception as e:  # a sheet must never stop a long run
            say(f"sample sheet failed: {e!r}")

    last_ck = last_sample = time.time()
    win = {n: [time.time(), 0, 0.0, {}] for n in STAGES}  # wall start, images, train seconds, loss sums
    started = time.time()
    for s in stages.values():
        s.G.train()
    while True:
        n = _pick(stages, budget)
        if n is None:
            break
        if max_seconds is not None and time.time() - started > max_seconds:
            break
        s = stages[n]
        ts = time.time()
        losses = s.train_step()
        dt = time.time() - ts
        s.seconds += dt
        w = win[n]
        w[1] += cfg.batch
        w[2] += dt
        for k, v in losses.items():
            w[3][k] = w[3].get(k, 0.0) + v
        if s.step % cfg.log_every == 0:
            ips = w[1] / max(w[2], 1e-9)
            avg = {k: v / max(1, w[1] // cfg.batch) for k, v in w[3].items()}  # steps in this window
            left = sum(max(0.0, budget[m] - stages[m].seconds) for m in STAGES)
            say(f"[{n}] step {s.step} | {ips:.1f} img/s | " + " ".join(f"{k} {v:.4f}" for k, v in avg.items())
                + f" | stage {s.seconds / 60:.1f}/{budget[n] / 60:.1f} min | left {left / 60:.0f} min")
            with open(csv, "a") as f:
                f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')},{n},{s.step},{s.images},{s.seconds:.1f},{ips:.2f},"
                        f"{avg.get('rec', 0):.5f},{avg.get('adv', 0):.5f},{avg.get('d', 0):.5f}\n")
            win[n] = [time.time(), 0, 0.0, {}]
        if time.time() - last_ck > cfg.ckpt_seconds:
            checkpoint()
            last_ck = time.time()
        if time.time() - last_sample > cfg.sample_seconds:
            sample()
            last_sample = time.time()
    checkpoint()
    sample()
    say("training finished" if info()["done"] else "training stopped (time limit of this call)")
    logf.close()
    return json.loads((run / "train.json").read_text())


def write_slim(run: Path = RUN_DIR, out: Optional[Path] = None) -> Path:
    """ckpt.pt -> ckpt-slim.pt (EMA fp32, G and D bf16, counters and RNG; no optimiser moments; stages not yet
    started are left out)."""
    ck = torch.load(run / "ckpt.pt", map_location="cpu")
    cfg = Config2(**ck["config"])
    slim = {"config": ck["config"], "stages": {}}
    for n, st in ck["stages"].items():
        if st["step"] == 0:  # an untrained stage (the baseline before its turn) starts from its seeded init
            continue
        s = Stage2(n, cfg, None)
        s.load(st)
        slim["stages"][n] = s.slim_state()
    p = out or (run / "ckpt-slim.pt")
    save_atomic(slim, p)
    return p


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resolution", type=int, default=128)
    ap.add_argument("--crop", type=int, default=W.CROP)
    ap.add_argument("--shape-resolution", type=int, default=64)
    ap.add_argument("--scenes", type=int, default=10000)
    ap.add_argument("--minutes", type=float, default=600.0, help="total training time (all stages)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run", type=Path, default=RUN_DIR)
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--ckpt-minutes", type=float, default=4.0)
    ap.add_argument("--sample-minutes", type=float, default=10.0)
    ap.add_argument("--split", default="", help="shares of --minutes per stage, e.g. shape=0.06,background=0.4,"
                    "foreground=0.4,baseline=0.14 (default 0.08/0.32/0.45/0.15); may change between resumed runs")
    ap.add_argument("--write-slim", action="store_true", help="only write ckpt-slim.pt from ckpt.pt and exit")
    a = ap.parse_args(argv)
    if a.write_slim:
        p = write_slim(a.run)
        print(f"{p} {p.stat().st_size / 1e6:.1f} MB")
        return
    cfg = Config2(resolution=a.resolution, crop=a.crop, shape_resolution=a.shape_resolution, scenes=a.scenes,
                  minutes=a.minutes, batch=a.batch, seed=a.seed, ckpt_seconds=a.ckpt_minutes * 60,
                  sample_seconds=a.sample_minutes * 60)
    if a.split:
        cfg.split.update({k: float(v) for k, v in (kv.split("=") for kv in a.split.split(",") if kv)})
    train(cfg, a.run, fresh=a.fresh)


if __name__ == "__main__":
    main()
