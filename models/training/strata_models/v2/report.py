"""Summarise a v2 run: per stage steps, images, images/s, first/last reconstruction loss; loss curves as a PNG.

    cd models/training && /usr/bin/python3 -m strata_models.v2.report --run checkpoints/v2 [--png curves.png]
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Dict, List

from PIL import Image, ImageDraw

from .train import RUN_DIR, STAGES

COLOURS = {"shape": (230, 200, 60), "background": (90, 160, 255), "foreground": (120, 220, 120), "baseline": (240, 110, 110)}


def read(run: Path) -> Dict[str, List[dict]]:
    rows: Dict[str, List[dict]] = {n: [] for n in STAGES}
    with open(run / "losses.csv") as f:
        for r in csv.DictReader(f):
            rows[r["stage"]].append(r)
    # a resumed run repeats the steps after its last checkpoint: keep the last row per step, in order
    for n, rs in rows.items():
        rows[n] = sorted({int(r["step"]): r for r in rs}.values(), key=lambda r: int(r["step"]))
    return rows


def smooth(xs: List[float], k: int = 8) -> List[float]:
    return [sum(xs[max(0, i - k + 1):i + 1]) / len(xs[max(0, i - k + 1):i + 1]) for i in range(len(xs))]


def curves(rows: Dict[str, List[dict]], out: Path, w: int = 900, h: int = 300) -> None:
    im = Image.new("RGB", (w, h * 2), (24, 24, 28))
    d = ImageDraw.Draw(im)
    for panel, key in enumerate(("rec", "d")):
        y0 = panel * h
        d.text((8, y0 + 4), f"{key} (smoothed) vs images seen, per stage", fill=(230, 230, 230))
        for n, rs in rows.items():
            if len(rs) < 2:
                continue
            xs = [int(r["images"]) for r in rs]
            ys = smooth([float(r[key]) for r in rs])
            xmax, ymax = max(xs), max(ys) * 1.05 or 1
            pts = [(40 + (w - 60) * x / xmax, y0 + h - 20 - (h - 50) * y / ymax) for x, y in zip(xs, ys)]
            d.line(pts, fill=COLOURS[n], width=2)
            d.text((w - 150, y0 + 20 + 14 * STAGES.index(n)), f"{n} {ys[-1]:.3f} ({xmax} img)", fill=COLOURS[n])
    im.save(out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=RUN_DIR)
    ap.add_argument("--png", type=Path, default=None)
    a = ap.parse_args(argv)
    rows = read(a.run)
    info = json.loads((a.run / "train.json").read_text())
    print("| stage | steps | images | train min | img/s (average) | rec first -> last (smoothed) | d last |")
    print("|---|---|---|---|---|---|---|")
    for n in STAGES:
        st = info["stages"][n]
        rs = rows[n]
        rec = smooth([float(r["rec"]) for r in rs]) if rs else []
        dd = smooth([float(r["d"]) for r in rs]) if rs else []
        print(f"| {n} | {st['steps']} | {st['images']} | {st['seconds'] / 60:.1f} / {st['budgetSeconds'] / 60:.0f} | "
              f"{st['imagesPerSecond']} | " + (f"{rec[0]:.3f} -> {rec[-1]:.3f} | {dd[-1]:.3f} |" if rec else "- | - |"))
    if a.png:
        curves(rows, a.png)
        print(a.png)


if __name__ == "__main__":
    main()
