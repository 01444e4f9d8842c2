"""Tests of the v2 pipeline (issue 8): world, crop engine, nets, a tiny end-to-end run and ONNX parity.

    cd models/training && /usr/bin/python3 -m unittest tests.test_v2 -v
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

TRAINING = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TRAINING))

from strata_models.v2 import engine as E  # noqa: E402
from strata_models.v2 import world as W  # noqa: E402
from strata_models.v2.nets import BackgroundG2, BaselineG, ForegroundG2, ShapeG  # noqa: E402
from strata_models.v2.ortbridge import node_binary  # noqa: E402


class WorldV2Test(unittest.TestCase):
    def test_eight_categories_and_clean_masks(self) -> None:
        self.assertGreaterEqual(len(W.CATEGORIES), 8)
        self.assertIn("person", W.CATEGORIES)
        rng = np.random.default_rng(0)
        for c in range(len(W.CATEGORIES)):
            for _ in range(6):
                q = W.params_from_noise(rng.standard_normal(W.SHAPE_PARAMS))
                m = W.shape_mask(c, q, 48)
                self.assertGreater(m.mean(), 0.03, W.CATEGORIES[c])
                self.assertEqual(W.components(m), 1, W.CATEGORIES[c])

    def test_largest_component(self) -> None:
        m = np.zeros((10, 10), bool)
        m[1:4, 1:4] = True
        m[7, 7] = True
        k = W.largest_component(m)
        self.assertEqual(int(k.sum()), 9)
        self.assertEqual(W.components(m), 2)

    def test_deterministic_and_local(self) -> None:
        a, b = W.render_scene(3, 48, n_objects=3), W.render_scene(3, 48, n_objects=3)
        for x, y in zip(a.canvases, b.canvases):
            np.testing.assert_array_equal(x, y)
        for t, o in enumerate(a.objects):
            changed = (a.canvases[t + 1] != a.canvases[t]).any(-1)
            self.assertFalse((changed & ~W.dilate(o.mask)).any())
            self.assertEqual(W.components(o.mask), 1)

    def test_night_has_stars_and_is_darker(self) -> None:
        p = np.full(W.BG_PARAMS, 0.5)
        day, night = W.render_background(0, p, 64), W.render_background(2, p, 64)
        self.assertLess(night.mean(), day.mean())
        sky = night[: int(64 * 0.35)]
        self.assertGreater(int((sky.max(-1) > 0.4).sum()), 5, "stars")


class EngineTest(unittest.TestCase):
    def test_crop_maps_box_to_centre(self) -> None:
        R = 64
        canvas = -torch.ones(1, 3, R, R)
        canvas[:, :, 16:32, 8:40] = 1  # the box (x0=8/64, y0=16/64, w=32/64, h=16/64) is white
        box = torch.tensor([[8 / R, 16 / R, 32 / R, 16 / R]])
        c = E.crop_in(canvas, box, 16)
        self.assertTrue(bool((c[:, :, 2:14, 2:14] > 0.99).all()), "the box fills the central 3/4")
        self.assertTrue(bool((c[:, :, 0, :] < -0.99).all()) and bool((c[:, :, :, 0] < -0.99).all()))

    def test_paste_exact_outside_dilated_mask_and_crop_independent(self) -> None:
        torch.manual_seed(0)
        R, K = 48, 16
        g = ForegroundG2(K, 32, len(W.CATEGORIES), width=8).eval()
        canvas = torch.rand(2, 3, R, R) * 2 - 1
        boxes = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.55, 0.5, 0.35, 0.3]])
        shape = torch.zeros(2, 1, 16, 16)
        shape[:, :, 3:16, 4:12] = 1
        mc, mk = E.fit_mask(shape, boxes, R), E.crop_mask(shape, K)
        light = E.light_code(canvas, torch.eye(3)[:2])
        args = (mk, torch.eye(len(W.CATEGORIES))[:2], torch.randn(2, 32), light)
        out = E.paste(canvas, g(E.crop_in(canvas, boxes, K), *args), boxes, mc)
        keep = (E.dilate(mc) <= 0.5).expand_as(out)
        self.assertTrue(torch.equal(out[keep], canvas[keep]))
        self.assertGreater(float((out != canvas).float().sum()), 0)
        # pixels outside an object's crop window do not change its result (the region-aware re-render)
        c2 = canvas.clone()
        c2[:, :, :, :2] = 0.123  # left columns: outside both windows
        win = E.crop_window(boxes)
        self.assertTrue(bool((win[:, 0] > 2 / R).all()))
        out2 = E.paste(c2, g(E.crop_in(c2, boxes, K), *args), boxes, mc)
        inside = E.dilate(mc) > 0.5
        self.assertTrue(torch.equal(out2[inside.expand_as(out2)], out[inside.expand_as(out)]))
        # deterministic
        out3 = E.paste(canvas, g(E.crop_in(canvas, boxes, K), *args), boxes, mc)
        self.assertTrue(torch.equal(out, out3))

    def test_same_seed_same_object_at_any_place_and_size(self) -> None:
        torch.manual_seed(1)
        K = 16
        g = ForegroundG2(K, 32, len(W.CATEGORIES), width=8).eval()
        flat = torch.full((2, 3, 64, 64), 0.2)
        boxes = torch.tensor([[0.1, 0.1, 0.2, 0.3], [0.4, 0.5, 0.5, 0.45]])  # other place, other size
        shape = torch.ones(2, 1, 8, 8)
        z = torch.randn(1, 32).expand(2, 32)
        light = torch.zeros(2, 9)
        out = g(E.crop_in(flat, boxes, K), E.crop_mask(shape, K), torch.eye(8)[[2, 2]], z, light)
        self.assertTrue(torch.allclose(out[0], out[1], atol=1e-4))  # float rounding of the resampling only

    def test_nets_shapes(self) -> None:
        self.assertEqual(BackgroundG2(32, width=8)(torch.randn(2, 32), torch.eye(3)[:2]).shape, (2, 3, 32, 32))
        self.assertEqual(BaselineG(32, width=8)(torch.rand(2, 8, 32, 32), torch.randn(2, 32), torch.eye(3)[:2]).shape,
                         (2, 3, 32, 32))
        m = ShapeG(16, 16, 8, width=8)(torch.eye(8)[:2], torch.randn(2, 16))
        self.assertEqual(m.shape, (2, 1, 16, 16))


class PipelineV2SmokeTest(unittest.TestCase):
    """Render, train (interleaved stages), checkpoint, resume (full and slim), export ONNX, evaluate from ONNX."""

    def test_tiny_pipeline(self) -> None:
        from strata_models.v2.export import export
        from strata_models.v2.train import Config2, train, write_slim

        tmp = Path(tempfile.mkdtemp(prefix="strata-v2-smoke-"))
        try:
            cfg = Config2(resolution=32, crop=16, shape_resolution=16, scenes=24, minutes=0.06, batch=4, log_every=5,
                          ckpt_seconds=1.0, sample_seconds=1.0, bg_width=8, fg_width=8, shape_width=8,
                          baseline_width=8, cap=32, d_width=8)
            run = tmp / "run"
            info = train(cfg, run, cache_dir=tmp / "cache", log=lambda s: None)
            self.assertTrue(info["done"])
            self.assertTrue(all(info["stages"][n]["steps"] > 0 for n in ("shape", "background", "foreground", "baseline")))
            self.assertTrue((run / "ckpt.pt").exists() and (run / "samples" / "latest.png").exists())
            self.assertIn("foreground", (run / "losses.csv").read_text())
            cfg2 = Config2(**{**cfg.__dict__, "minutes": 0.09})
            info2 = train(cfg2, run, cache_dir=tmp / "cache", log=lambda s: None)
            self.assertGreater(info2["images"], info["images"])
            write_slim(run)
            (run / "ckpt.pt").unlink()
            cfg3 = Config2(**{**cfg.__dict__, "minutes": 0.12})
            info3 = train(cfg3, run, cache_dir=tmp / "cache", log=lambda s: None)
            self.assertGreater(info3["images"], info2["images"])
            man = export(run, tmp / "out")
            self.assertEqual(man["format"], "strata-models/2")
            self.assertEqual(man["foreground"]["crop"]["size"], 16)
            self.assertEqual(len(man["categories"]), len(W.CATEGORIES))
            for name in ("background", "foreground", "shape", "baseline"):
                self.assertTrue((tmp / "out" / man["models"][name]["file"]).exists())
            if node_binary():
                from strata_models.v2.evaluate import evaluate
                ev = evaluate(tmp / "out", n_scenes=16, classifier_steps=3, n_layouts=2, log=lambda s: None,
                              shapes_per_category=4)
                self.assertEqual(ev["locality"]["maxChangeOutsideDilatedMask"], 0.0)
                self.assertEqual(ev["locality"]["maxChangeOutsideDilatedCropMask"], 0.0)
                for k in ("scale", "move", "reroll"):
                    self.assertIn("baselineShareChangedOutside", ev["claims"]["world"][k])
                    self.assertEqual(ev["claims"]["grid"][k]["strataMaxChangeOutside"], 0.0, k)
                    self.assertEqual(ev["claims"]["grid"][k]["laterObjectsReinferredMean"], 0.0, k)
                    self.assertEqual(ev["claims"]["world"][k]["strataMaxChangeOutsideEditedAndReinferred"], 0.0, k)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@unittest.skipUnless(node_binary(), "node is not installed")
class OrtParityV2Test(unittest.TestCase):
    def test_foreground_and_background_parity(self) -> None:
        from strata_models.v2.export import export_onnx
        from strata_models.v2.ortbridge import OrtBridge
        from strata_models.v2.train import Config2, build_generator

        torch.manual_seed(2)
        cfg = Config2(resolution=32, crop=16, shape_resolution=16, bg_width=8, fg_width=8, shape_width=8,
                      baseline_width=8, cap=32)
        gens = {n: build_generator(n, cfg).eval() for n in ("background", "foreground", "shape", "baseline")}
        tmp = Path(tempfile.mkdtemp(prefix="strata-v2-parity-"))
        try:
            files = export_onnx(gens, tmp, cfg)
            B, C = 3, len(W.CATEGORIES)
            feeds = {"crop": torch.rand(B, 3, 16, 16) * 2 - 1, "mask": (torch.rand(B, 1, 16, 16) > 0.7).float(),
                     "category": torch.eye(C)[[0, 6, 7]], "z": torch.randn(B, 32), "light": torch.randn(B, 9)}
            with torch.no_grad():
                want = gens["foreground"](*feeds.values()).numpy()
                bz, bs = torch.randn(B, 32), torch.eye(3)
                want_bg = gens["background"](bz, bs)
                want_light = E.light_code(want_bg, bs)
            with OrtBridge() as ort:
                got = ort.run(files["foreground"], {k: v.numpy() for k, v in feeds.items()})["image"]
                bg = ort.run(files["background"], {"z": bz.numpy(), "style": bs.numpy()})
            self.assertLess(float(np.abs(got - want).max()), 1e-4)
            keep = (F.max_pool2d(feeds["mask"], 5, 1, 2) <= 0.5).expand(-1, 3, -1, -1).numpy()
            np.testing.assert_array_equal(got[keep], feeds["crop"].numpy()[keep])
            self.assertLess(float(np.abs(bg["image"] - want_bg.numpy()).max()), 1e-4)
            self.assertLess(float(np.abs(bg["light"] - want_light.numpy()).max()), 1e-4)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
