"""Tests of the pipeline: the world, the nets, a tiny end-to-end run, and ORT/PyTorch parity.

    /usr/bin/python3 -m unittest discover -s models/training/tests
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

TRAINING = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TRAINING))

from strata_models import world as W  # noqa: E402
from strata_models.compose import shape_to_canvas  # noqa: E402
from strata_models.nets import BackgroundG, ForegroundG, ShapeG  # noqa: E402


class WorldTest(unittest.TestCase):
    def test_deterministic_from_seed(self) -> None:
        a, b = W.render_scene(5, 32), W.render_scene(5, 32)
        self.assertEqual(len(a.canvases), len(b.canvases))
        for x, y in zip(a.canvases, b.canvases):
            np.testing.assert_array_equal(x, y)
        c = W.render_scene(6, 32)
        self.assertFalse(np.array_equal(a.background, c.background))

    def test_scene_yields_steps_masks_boxes(self) -> None:
        s = W.render_scene(11, 48, n_objects=3)
        self.assertEqual(len(s.canvases), 4)
        self.assertEqual(s.canvases[0].shape, (48, 48, 3))
        for t, o in enumerate(s.objects):
            self.assertIn(o.category, range(len(W.CATEGORIES)))
            self.assertEqual(o.mask.shape, (48, 48))
            self.assertTrue(o.mask.any())
            # painting only changes pixels inside the dilated mask
            changed = (s.canvases[t + 1] != s.canvases[t]).any(-1)
            self.assertFalse((changed & ~W.dilate(o.mask)).any())
        bases = [o.box[1] + o.box[3] for o in s.objects]
        self.assertEqual(bases, sorted(bases), "painted back to front")

    def test_every_style_and_category_renders(self) -> None:
        means = []
        for st in range(len(W.STYLES)):
            bg = W.render_background(st, np.full(W.BG_PARAMS, 0.5), 32)
            means.append(bg.mean())
            for c in range(len(W.CATEGORIES)):
                m = W.shape_mask(c, np.full(W.SHAPE_PARAMS, 0.5), 32)
                self.assertGreater(m.mean(), 0.05)
                self.assertTrue(m[-2:].any(), "object-centred masks touch the bottom")
        self.assertLess(means[2], means[0], "night is darker than day")

    def test_noise_maps_to_params(self) -> None:
        p = W.params_from_noise(np.array([-10.0, 0.0, 1.0, 10.0]))
        np.testing.assert_allclose(p, [0.0, 0.5, 0.8413447, 1.0], atol=1e-6)

    def test_dilate_matches_maxpool(self) -> None:
        m = np.random.default_rng(0).random((20, 20)) > 0.9
        t = F.max_pool2d(torch.from_numpy(m).float()[None, None], 5, 1, 2)[0, 0].numpy() > 0.5
        np.testing.assert_array_equal(W.dilate(m, 2), t)


class NetsTest(unittest.TestCase):
    def test_shapes_and_compositing(self) -> None:
        torch.manual_seed(0)
        g = ForegroundG(16, 32, 6).eval()
        canvas = torch.rand(3, 3, 16, 16) * 2 - 1
        mask = torch.zeros(3, 1, 16, 16)
        mask[:, :, 5:9, 6:10] = 1
        out = g(canvas, mask, torch.eye(6)[:3], torch.randn(3, 32))
        dil = F.max_pool2d(mask, 5, 1, 2) > 0.5
        self.assertTrue(torch.equal(out[~dil.expand_as(out)], canvas[~dil.expand_as(canvas)]))
        self.assertEqual(BackgroundG(32).eval()(torch.randn(2, 32), torch.eye(3)[:2]).shape, (2, 3, 32, 32))
        m = ShapeG(32).eval()(torch.eye(6)[:2], torch.randn(2, 16))
        self.assertEqual(m.shape, (2, 1, 32, 32))
        self.assertTrue(bool((m >= 0).all() and (m <= 1).all()))

    def test_shape_to_canvas_fills_box(self) -> None:
        full = torch.ones(1, 1, 8, 8)
        m = shape_to_canvas(full, torch.tensor([[0.25, 0.5, 0.5, 0.25]]), 16)
        self.assertEqual(int(m.sum()), 8 * 4)
        self.assertEqual(int(m[0, 0, 8:12, 4:12].sum()), 32)


class PipelineSmokeTest(unittest.TestCase):
    """Render, train a few steps, export, evaluate and draw sheets at a tiny size."""

    def test_tiny_pipeline(self) -> None:
        from strata_models.evaluate import evaluate
        from strata_models.export import export
        from strata_models.sheets import write_sheets
        from strata_models.train import Config, train

        tmp = Path(tempfile.mkdtemp(prefix="strata-smoke-"))
        try:
            cfg = Config(resolution=16, shape_resolution=16, scenes=40, minutes=0.08, batch=4, log_every=5,
                         ckpt_seconds=1.0)
            info = train(cfg, tmp / "run", cache_dir=tmp / "cache", log=lambda s: None)
            self.assertGreater(info["images"], 0)
            self.assertTrue((tmp / "run" / "ckpt.pt").exists())
            # resume continues from the checkpoint and does not start over
            cfg2 = Config(**{**cfg.__dict__, "minutes": 0.12})
            info2 = train(cfg2, tmp / "run", resume=True, cache_dir=tmp / "cache", log=lambda s: None)
            self.assertGreater(info2["images"], info["images"])
            self.assertIn("step", (tmp / "run" / "log.txt").read_text())
            ev = evaluate(tmp / "run", n_scenes=40, classifier_steps=5, log=lambda s: None)
            self.assertEqual(ev["locality"]["maxChangeOutsideDilatedMask"], 0.0)
            man = export(tmp / "run", tmp / "out", draft=True, evaluation=ev)
            self.assertEqual(man["format"], "strata-models/1")
            self.assertTrue(man["version"].endswith("-draft"))
            self.assertEqual(man["resolution"], 16)
            self.assertEqual([c["id"] for c in man["categories"]], list(W.CATEGORIES))
            self.assertEqual([s["id"] for s in man["styles"]], list(W.STYLES))
            for name in ("background", "foreground", "shape"):
                f = tmp / "out" / man["models"][name]["file"]
                self.assertTrue(f.exists())
                self.assertLess(f.stat().st_size, 20 * 1024 * 1024)
            self.assertEqual(json.loads((tmp / "out" / "manifest.json").read_text())["evaluation"], ev)
            paths = write_sheets(tmp / "run", tmp / "samples")
            self.assertTrue(all(p.exists() for p in paths))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _node() -> str:
    return shutil.which("node") or ""


@unittest.skipUnless(_node(), "node is not installed")
class OrtParityTest(unittest.TestCase):
    """onnxruntime-node and PyTorch agree within 1e-4 on the same exported nets."""

    def test_parity(self) -> None:
        from strata_models.export import export_onnx

        torch.manual_seed(1)
        tmp = Path(tempfile.mkdtemp(prefix="strata-parity-"))
        try:
            gens = {"background": BackgroundG(16).eval(), "foreground": ForegroundG(16).eval(), "shape": ShapeG(16).eval()}
            export_onnx(gens, tmp, 16, 16)
            B = 3
            feeds = {
                "background.onnx": {"z": torch.randn(B, 32), "style": torch.eye(3)[[0, 1, 2]]},
                "foreground.onnx": {"canvas": torch.rand(B, 3, 16, 16) * 2 - 1,
                                    "mask": (torch.rand(B, 1, 16, 16) > 0.7).float(),
                                    "category": torch.eye(6)[[0, 3, 5]], "z": torch.randn(B, 32)},
                "shape.onnx": {"category": torch.eye(6)[[1, 2, 4]], "z": torch.randn(B, 16)},
            }
            with torch.no_grad():
                outs = {
                    "background.onnx": ("image", gens["background"](*feeds["background.onnx"].values())),
                    "foreground.onnx": ("image", gens["foreground"](*feeds["foreground.onnx"].values())),
                    "shape.onnx": ("mask", gens["shape"](*feeds["shape.onnx"].values())),
                }
            cases = []
            for model, inputs in feeds.items():
                ins = []
                for name, t in inputs.items():
                    f = f"{model}.{name}.bin"
                    (tmp / f).write_bytes(t.numpy().astype(np.float32).tobytes())
                    ins.append({"name": name, "file": f, "shape": list(t.shape)})
                oname, o = outs[model]
                of = f"{model}.{oname}.out.bin"
                (tmp / of).write_bytes(o.numpy().astype(np.float32).tobytes())
                out = {"name": oname, "file": of}
                if model == "foreground.onnx":
                    keep = (F.max_pool2d(inputs["mask"], 5, 1, 2) <= 0.5).float().expand(-1, 3, -1, -1)
                    (tmp / "keep.bin").write_bytes(keep.numpy().astype(np.float32).tobytes())
                    out.update(unchangedFrom=f"{model}.canvas.bin", unchangedWhere="keep.bin")
                cases.append({"model": model, "inputs": ins, "outputs": [out]})
            (tmp / "case.json").write_text(json.dumps({"cases": cases}))
            r = subprocess.run([_node(), str(Path(__file__).with_name("ort_parity.mjs")), str(tmp)],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            res = json.loads(r.stdout)
            self.assertEqual(len(res), 3)
            for x in res:
                self.assertLess(x["maxDiff"], 1e-4, x)
                self.assertTrue(x["exactOutside"], x)
                self.assertEqual(x["dims"][0], B)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
