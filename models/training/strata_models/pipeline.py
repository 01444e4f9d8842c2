"""The whole pipeline in one command: render the world, train (resumable), evaluate, export, sample sheets.

    cd models/training && /usr/bin/python3 -m strata_models.pipeline --resolution 64 --minutes 80 [--resume]

Writes models/{background,foreground,shape}.onnx, models/manifest.json (with the evaluation figures)
and models/samples/*.png.  Checkpoints and logs stay in models/training/runs/<run>/ (git-ignored).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import List, Optional

from .evaluate import evaluate
from .export import MODELS_DIR, export
from .sheets import write_sheets
from .train import RUNS_DIR, Config, train


def run_pipeline(cfg: Config, run: Path, out: Path, samples: Path, resume: bool = True, draft: bool = False,
                 eval_scenes: int = 2000, classifier_steps: int = 600, cache_dir: Optional[Path] = None) -> dict:
    train(cfg, run, resume=resume, cache_dir=cache_dir)
    ev = evaluate(run, eval_scenes, classifier_steps, threads=cfg.threads)
    (run / "evaluation.json").write_text(json.dumps(ev, indent=2))
    man = export(run, out, draft=draft, evaluation=ev)
    write_sheets(run, samples)
    return man


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--shape-resolution", type=int, default=32)
    ap.add_argument("--scenes", type=int, default=20000)
    ap.add_argument("--minutes", type=float, default=80.0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--run", type=Path, default=RUNS_DIR / "main")
    ap.add_argument("--out", type=Path, default=MODELS_DIR)
    ap.add_argument("--samples", type=Path, default=MODELS_DIR / "samples")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint in --run")
    ap.add_argument("--draft", action="store_true")
    a = ap.parse_args(argv)
    cfg = Config(resolution=a.resolution, shape_resolution=a.shape_resolution, scenes=a.scenes, minutes=a.minutes,
                 batch=a.batch, threads=a.threads)
    man = run_pipeline(cfg, a.run, a.out, a.samples, resume=not a.fresh, draft=a.draft)
    print(json.dumps({"version": man["version"], "evaluation": man["evaluation"]}, indent=2))


if __name__ == "__main__":
    main()
