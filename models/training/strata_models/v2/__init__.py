"""Generators v2 (issue 8): 128 px world with more detail and categories, an object-centric foreground
generator working on a fixed-size crop, a single-shot baseline, resumable long CPU training, ONNX export
and an evaluation that runs the exported ONNX files.  The v1 modules (``strata_models.*``) are unchanged."""
