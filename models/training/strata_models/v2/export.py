"""Export the v2 generators to ONNX (opset 17, dynamic batch) with a draft manifest (format strata-models/2).

    cd models/training && /usr/bin/python3 -m strata_models.v2.export --run checkpoints/v2 --out checkpoints/v2/export

Files: background.onnx (z, style -> image, light), foreground.onnx (crop, mask, category, z, light -> image),
shape.onnx (category, z -> mask), baseline.onnx (layout, z, style -> image; the single-shot baseline, for the
claim measurement only).  The manifest describes the crop engine (engine.py) and the lighting code.
It is written next to the ONNX files, never over models/manifest.json (the server ships v1 until the
integration of v2).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from . import world as W
from .engine import LIGHT_DIM, light_code
from .nets import count_params
from .train import RUN_DIR, Config2, load_generators
from ..export import OPSET, _tensor, sha256

FORMAT = "strata-models/2"
NAMES = ("background", "foreground", "shape", "baseline")


class _Background(nn.Module):
    def __init__(self, g: nn.Module) -> None:
        super().__init__()
        self.g = g

    def forward(self, z: torch.Tensor, style: torch.Tensor):
        img = self.g(z, style)
        return img, light_code(img, style)


class _Shape(nn.Module):
    def __init__(self, g: nn.Module) -> None:
        super().__init__()
        self.g = g

    def forward(self, category: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.g(category, z)


def export_onnx(gens: Dict[str, nn.Module], out: Path, cfg: Config2) -> Dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    R, K = cfg.resolution, cfg.crop
    C, S = len(W.CATEGORIES), len(W.STYLES)
    B = 2
    files = {}
    dyn = lambda names: {k: {0: "batch"} for k in names}  # noqa: E731
    with torch.no_grad():
        p = out / "background.onnx"
        torch.onnx.export(_Background(gens["background"].eval()), (torch.randn(B, W.NOISE_BACKGROUND), torch.eye(S)[:B]),
                          str(p), opset_version=OPSET, input_names=["z", "style"], output_names=["image", "light"],
                          dynamic_axes=dyn(["z", "style", "image", "light"]))
        files["background"] = p
        p = out / "foreground.onnx"
        m = (torch.rand(B, 1, K, K) > 0.5).float()
        torch.onnx.export(gens["foreground"].eval(), (torch.rand(B, 3, K, K) * 2 - 1, m, torch.eye(C)[:B],
                                                      torch.randn(B, W.NOISE_FOREGROUND), torch.randn(B, LIGHT_DIM)),
                          str(p), opset_version=OPSET, input_names=["crop", "mask", "category", "z", "light"],
                          output_names=["image"], dynamic_axes=dyn(["crop", "mask", "category", "z", "light", "image"]))
        files["foreground"] = p
        p = out / "shape.onnx"
        torch.onnx.export(_Shape(gens["shape"].eval()), (torch.eye(C)[:B], torch.randn(B, W.NOISE_SHAPE)), str(p),
                          opset_version=OPSET, input_names=["category", "z"], output_names=["mask"],
                          dynamic_axes=dyn(["category", "z", "mask"]))
        files["shape"] = p
        p = out / "baseline.onnx"
        torch.onnx.export(gens["baseline"].eval(), (torch.rand(B, C, R, R).round(), torch.randn(B, W.NOISE_BACKGROUND),
                                                    torch.eye(S)[:B]),
                          str(p), opset_version=OPSET, input_names=["layout", "z", "style"], output_names=["image"],
                          dynamic_axes=dyn(["layout", "z", "style", "image"]))
        files["baseline"] = p
    return files


def build_manifest(files: Dict[str, Path], cfg: Config2, train_info: dict, evaluation: Optional[dict], version: str,
                   params: Dict[str, int]) -> dict:
    R, K, M = cfg.resolution, cfg.crop, cfg.shape_resolution
    C, S = len(W.CATEGORIES), len(W.STYLES)
    Zb, Zf, Zs = W.NOISE_BACKGROUND, W.NOISE_FOREGROUND, W.NOISE_SHAPE

    def entry(name: str, inputs: List[dict], outputs: List[dict]) -> dict:
        f = files[name]
        return {"file": f.name, "sha256": sha256(f), "bytes": f.stat().st_size, "opset": OPSET,
                "parameters": params[name], "inputs": inputs, "outputs": outputs}

    light = _tensor("light", ["batch", LIGHT_DIM], range=[-1, 1])
    return {
        "format": FORMAT,
        "version": version,
        "resolution": R,
        "shapeResolution": M,
        "categories": [{"id": c, "label": c.capitalize()} for c in W.CATEGORIES],
        "styles": [{"id": s, "label": s.capitalize()} for s in W.STYLES],
        "noise": {"background": Zb, "foreground": Zf, "shape": Zs},
        "foreground": {
            "dilation": W.DILATION,
            "crop": {"size": K, "boxSize": K * W.CROP_BOX // W.CROP, "margin": W.MARGIN,
                     "window": "box grown by margin x its width left and right and margin x its height top and bottom",
                     "resample": "bilinear, pixel centres (i + 0.5) / N, edge pixels repeated outside the canvas "
                                 "(torch grid_sample align_corners=false, padding border)",
                     "mask": "shape mask fitted into the central boxSize x boxSize pixels (bilinear, zeros outside, > 0.5)",
                     "paste": "canvas' = where(maxpool(2d+1)(canvas mask) > 0.5, bilinear sample of the output crop at the "
                              "pixel's position in the window, canvas)"},
            "light": {"size": LIGHT_DIM, "from": "the background image x0 (background.onnx output 'image', float)",
                      "definition": "[style one-hot (S), mean RGB of rows [0, R/2) of x0, mean RGB of rows [R/2, R) of x0], "
                                    "x0 in [-1, 1]; background.onnx also outputs it as 'light'"},
        },
        "models": {
            "background": entry("background",
                                [_tensor("z", ["batch", Zb], distribution="standard-normal"),
                                 _tensor("style", ["batch", S], distribution="one-hot")],
                                [_tensor("image", ["batch", 3, R, R], range=[-1, 1]), light]),
            "foreground": entry("foreground",
                                [_tensor("crop", ["batch", 3, K, K], range=[-1, 1]),
                                 _tensor("mask", ["batch", 1, K, K], distribution="binary"),
                                 _tensor("category", ["batch", C], distribution="one-hot"),
                                 _tensor("z", ["batch", Zf], distribution="standard-normal"), light],
                                [_tensor("image", ["batch", 3, K, K], range=[-1, 1])]),
            "shape": entry("shape",
                           [_tensor("category", ["batch", C], distribution="one-hot"),
                            _tensor("z", ["batch", Zs], distribution="standard-normal")],
                           [_tensor("mask", ["batch", 1, M, M], range=[0, 1])]),
            "baseline": entry("baseline",
                              [_tensor("layout", ["batch", C, R, R], distribution="binary"),
                               _tensor("z", ["batch", Zb], distribution="standard-normal"),
                               _tensor("style", ["batch", S], distribution="one-hot")],
                              [_tensor("image", ["batch", 3, R, R], range=[-1, 1])]),
        },
        "training": {
            "device": train_info.get("device", "cpu"),
            "resolution": R,
            "images": train_info.get("images", 0),
            "seconds": train_info.get("seconds", 0),
            "machine": train_info.get("machine", {}),
            "stages": train_info.get("stages", {}),
            "data": (f"procedural world v2 (models/training/strata_models/v2/world.py), {cfg.scenes} pre-rendered scenes at "
                     f"{R}x{R} (seed {cfg.seed}), object crops {K}x{K}, shapes {M}x{M}; no downloaded data or weights"),
        },
        "evaluation": evaluation or {},
    }


def export(run: Path = RUN_DIR, out: Optional[Path] = None, evaluation: Optional[dict] = None, draft: bool = True) -> dict:
    out = out or (run / "export")
    cfg, gens = load_generators(run)
    files = export_onnx(gens, out, cfg)
    info_path = run / "train.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    if evaluation is None and (out / "evaluation.json").exists():
        evaluation = json.loads((out / "evaluation.json").read_text())
    steps = sum(v.get("steps", 0) for v in info.get("stages", {}).values())
    version = f"{time.strftime('%Y%m%d')}-v2-r{cfg.resolution}-c{cfg.crop}-s{steps}" + ("-draft" if draft else "")
    man = build_manifest(files, cfg, info, evaluation, version, {k: count_params(g) for k, g in gens.items()})
    (out / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
    return man


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=RUN_DIR)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--final", action="store_true", help="version without the -draft suffix")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    man = export(a.run, a.out, draft=not a.final)
    for k, m in man["models"].items():
        print(f"{k}: {m['file']} {m['bytes'] / 1e6:.2f} MB sha256 {m['sha256'][:12]}")
    print(f"manifest {man['version']}")


if __name__ == "__main__":
    main()
