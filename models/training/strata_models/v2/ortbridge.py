"""Run ONNX files from Python through onnxruntime-node (ort_serve.mjs): the same runtime as the server.

    with OrtBridge() as ort:
        outs = ort.run("foreground.onnx", {"crop": x, ...})   # numpy float32 in, dict of numpy float32 out
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Optional

import numpy as np

SERVE = Path(__file__).with_name("ort_serve.mjs")


def node_binary() -> str:
    return shutil.which("node") or ""


class OrtBridge:
    def __init__(self, threads: int = 1, node: Optional[str] = None) -> None:
        node = node or node_binary()
        if not node:
            raise RuntimeError("node is not installed: the v2 evaluation runs the ONNX files in onnxruntime-node")
        self.threads = threads
        self.p = subprocess.Popen([node, str(SERVE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=str(SERVE.parent))

    def run(self, model: Path, inputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        arrs = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in inputs.items()}
        head = {"model": str(Path(model).resolve()), "threads": self.threads,
                "inputs": [{"name": k, "shape": list(v.shape)} for k, v in arrs.items()]}
        self.p.stdin.write((json.dumps(head) + "\n").encode())
        for v in arrs.values():
            self.p.stdin.write(v.tobytes())
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("ort_serve.mjs exited")
        res = json.loads(line)
        if "error" in res:
            raise RuntimeError(f"onnxruntime-node: {res['error']}")
        out = {}
        for o in res["outputs"]:
            n = int(np.prod(o["dims"])) if o["dims"] else 1
            data = self.p.stdout.read(4 * n)
            out[o["name"]] = np.frombuffer(data, dtype=np.float32).reshape(o["dims"]).copy()
        return out

    def close(self) -> None:
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=30)

    def __enter__(self) -> "OrtBridge":
        return self

    def __exit__(self, *a) -> None:
        self.close()
