"""Export a run's generators to ONNX (opset 17, dynamic batch) and write manifest.json (strata-models/1).

    /usr/bin/python3 -m strata_models.export --run runs/main --out .. [--draft]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from . import world as W
from .nets import BackgroundG, ForegroundG, ShapeG, count_params
from .train import RUNS_DIR, Config, load_generators

MODELS_DIR = Path(__file__).resolve().parents[2]
OPSET = 17
FORMAT = "strata-models/1"


class _Shape(nn.Module):
    def __init__(self, g: ShapeG) -> None:
        super().__init__()
        self.g = g

    def forward(self, category: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.g(category, z)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    h.update(path.read_bytes())
    return h.hexdigest()


def _tensor(name: str, shape: List, **kw) -> dict:
    d = {"name": name, "dtype": "float32", "shape": shape}
    d.update(kw)
    return d


def export_onnx(gens: Dict[str, nn.Module], out: Path, res: int, shape_res: int) -> Dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    C, S = len(W.CATEGORIES), len(W.STYLES)
    B = 2
    files = {}
    bg, fg, sh = gens["background"].eval(), gens["foreground"].eval(), gens["shape"].eval()
    with torch.no_grad():
        p = out / "background.onnx"
        torch.onnx.export(bg, (torch.randn(B, bg.nz), torch.eye(S)[:B]), str(p), opset_version=OPSET,
                          input_names=["z", "style"], output_names=["image"],
                          dynamic_axes={"z": {0: "batch"}, "style": {0: "batch"}, "image": {0: "batch"}})
        files["background"] = p
        p = out / "foreground.onnx"
        m = (torch.rand(B, 1, res, res) > 0.5).float()
        torch.onnx.export(fg, (torch.rand(B, 3, res, res) * 2 - 1, m, torch.eye(C)[:B], torch.randn(B, fg.nz)), str(p),
                          opset_version=OPSET, input_names=["canvas", "mask", "category", "z"], output_names=["image"],
                          dynamic_axes={k: {0: "batch"} for k in ("canvas", "mask", "category", "z", "image")})
        files["foreground"] = p
        p = out / "shape.onnx"
        torch.onnx.export(_Shape(sh), (torch.eye(C)[:B], torch.randn(B, sh.nz)), str(p), opset_version=OPSET,
                          input_names=["category", "z"], output_names=["mask"],
                          dynamic_axes={"category": {0: "batch"}, "z": {0: "batch"}, "mask": {0: "batch"}})
        files["shape"] = p
    return files


def build_manifest(files: Dict[str, Path], cfg: Config, train_info: dict, evaluation: Optional[dict], version: str,
                   params: Dict[str, int]) -> dict:
    R, M, C, S = cfg.resolution, cfg.shape_resolution, len(W.CATEGORIES), len(W.STYLES)
    Zb, Zf, Zs = W.NOISE_BACKGROUND, W.NOISE_FOREGROUND, W.NOISE_SHAPE

    def entry(name: str, inputs: List[dict], outputs: List[dict]) -> dict:
        f = files[name]
        return {"file": f.name, "sha256": sha256(f), "bytes": f.stat().st_size, "opset": OPSET,
                "parameters": params[name], "inputs": inputs, "outputs": outputs}

    stages = train_info.get("stages", {})
    return {
        "format": FORMAT,
        "version": version,
        "resolution": R,
        "shapeResolution": M,
        "categories": [{"id": c, "label": c.capitalize()} for c in W.CATEGORIES],
        "styles": [{"id": s, "label": s.capitalize()} for s in W.STYLES],
        "noise": {"background": Zb, "foreground": Zf, "shape": Zs},
        "foreground": {"dilation": W.DILATION},
        "models": {
            "background": entry("background",
                                [_tensor("z", ["batch", Zb], distribution="standard-normal"),
                                 _tensor("style", ["batch", S], distribution="one-hot")],
                                [_tensor("image", ["batch", 3, R, R], range=[-1, 1])]),
            "foreground": entry("foreground",
                                [_tensor("canvas", ["batch", 3, R, R], range=[-1, 1]),
                                 _tensor("mask", ["batch", 1, R, R], distribution="binary"),
                                 _tensor("category", ["batch", C], distribution="one-hot"),
                                 _tensor("z", ["batch", Zf], distribution="standard-normal")],
                                [_tensor("image", ["batch", 3, R, R], range=[-1, 1])]),
            "shape": entry("shape",
                           [_tensor("category", ["batch", C], distribution="one-hot"),
                            _tensor("z", ["batch", Zs], distribution="standard-normal")],
                           [_tensor("mask", ["batch", 1, M, M], range=[0, 1])]),
        },
        "training": {
            "device": train_info.get("device", "cpu"),
            "resolution": R,
            "images": train_info.get("images", 0),
            "seconds": train_info.get("seconds", 0),
            "imagesPerSecond": round(train_info.get("images", 0) / max(train_info.get("seconds", 0), 1e-9), 2),
            "machine": train_info.get("machine", {}),
            "stages": stages,
            "data": (f"procedural world (models/training/strata_models/world.py), {cfg.scenes} pre-rendered scenes "
                     f"at {R}x{R} (seed {cfg.seed}), 1-4 objects each painted back to front; no downloaded data or "
                     "pretrained weights"),
            "losses": "L1 + gradient-L1 reconstruction (BCE + Dice for shapes) and hinge adversarial terms: "
                      "global D on the canvas, local D on the object crop (foreground), conditional D (background, shape)",
        },
        "evaluation": evaluation or {},
    }


def export(run: Path, out: Path, draft: bool = False, evaluation: Optional[dict] = None) -> dict:
    cfg, gens = load_generators(run)
    files = export_onnx(gens, out, cfg.resolution, cfg.shape_resolution)
    info_path = run / "train.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    if evaluation is None and (run / "evaluation.json").exists():
        evaluation = json.loads((run / "evaluation.json").read_text())
    steps = sum(v.get("steps", 0) for v in info.get("stages", {}).values())
    version = f"{time.strftime('%Y%m%d')}-r{cfg.resolution}-s{steps}" + ("-draft" if draft else "")
    man = build_manifest(files, cfg, info, evaluation, version, {k: count_params(g) for k, g in gens.items()})
    (out / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
    return man


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=RUNS_DIR / "main")
    ap.add_argument("--out", type=Path, default=MODELS_DIR)
    ap.add_argument("--draft", action="store_true")
    a = ap.parse_args(argv)
    man = export(a.run, a.out, a.draft)
    for k, m in man["models"].items():
        print(f"{k}: {m['file']} {m['bytes'] / 1e6:.2f} MB sha256 {m['sha256'][:12]}")
    print(f"manifest version {man['version']} -> {a.out / 'manifest.json'}")


if __name__ == "__main__":
    main()
