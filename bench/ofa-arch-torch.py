#!/usr/bin/env python3
"""PyTorch eager peer of bench/ofa-arch-bench.ts: OFA's own forward on the same model and the same inputs.

    python3 bench/ofa-arch-torch.py --port ../shared/ofa-port --checkpoint DIR --inputs INPUTS.json

Loads ``OFAModel`` from the checkpoint (OFA's port files, unmodified, through models/tools/ofa_port_shim.py)
and the inputs the engine prepared (INPUTS.json: ``{"pixels": FILE, "size": S, "ids": [[...], ...],
"answers": [yes, no, maybe]}``, FILE float32 little-endian ``[n, 3, S, S]``). Prints one JSON line when
ready, then answers one JSON line per request line on stdin, so that the bench can alternate PyTorch and
onnxruntime runs in one loop:

    {"threads": 1, "index": 0}  ->  {"ms": 4180.2, "cpu_ms": 4175.0, "logits": [yes, no, maybe]}

Each request is one forward of pair ``index`` alone (batch 1, unpadded), as OFA's SNLI-VE inference runs it
(``model(input_ids, patch_images, patch_masks, decoder_input_ids)``, the whole decoder prompt at once, under
``torch.no_grad()``), with ``torch.set_num_threads(threads)`` first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models", "tools"))

import numpy  # noqa: E402
import torch  # noqa: E402

from ofa_port_shim import load_ofa_port  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--inputs", required=True)
    args = p.parse_args()

    t0 = time.perf_counter()
    ofa = load_ofa_port(args.port)
    model = ofa.OFAModel.from_pretrained(args.checkpoint).eval()
    with open(args.inputs, encoding="utf-8") as f:
        inputs = json.load(f)
    size = inputs["size"]
    pixels = torch.from_numpy(numpy.fromfile(inputs["pixels"], dtype="<f4").reshape(-1, 3, size, size))
    ids = [torch.tensor([row]) for row in inputs["ids"]]
    answers = inputs["answers"]
    print(json.dumps({"ready": True, "load_s": round(time.perf_counter() - t0, 2), "torch": torch.__version__,
                      "parameters": sum(q.numel() for q in model.parameters())}), flush=True)

    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        torch.set_num_threads(int(request["threads"]))
        i = int(request["index"])
        with torch.no_grad():
            start, cpu_start = time.perf_counter(), time.process_time()
            logits = model(input_ids=ids[i], patch_images=pixels[i:i + 1], patch_masks=torch.tensor([True]),
                           decoder_input_ids=ids[i][:, :-1], use_cache=False).logits
            ms, cpu_ms = (time.perf_counter() - start) * 1000, (time.process_time() - cpu_start) * 1000
        last = logits[0, -1]
        print(json.dumps({"ms": ms, "cpu_ms": cpu_ms, "logits": [float(last[a]) for a in answers]}), flush=True)


if __name__ == "__main__":
    main()
