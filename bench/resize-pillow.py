"""Pillow's side of bench/resize-vs-pillow.ts: times `Image.resize(size, Image.BICUBIC)` on raw RGB
files that the TypeScript side wrote, one request per line on stdin, one JSON answer per line.

Request:  {"path": "/tmp/x.rgb", "width": 1920, "height": 1080, "out": 480, "reps": 1, "save": "/tmp/y.rgb"?}
Answer:   {"ms": [...], "cpu_ms": [...], "pil": "9.4.0"}
          (wall and process CPU time of each resize call alone)

The image is built with Image.frombytes once per request (not timed), as a decoded photo would be,
and the output is written to `save` when asked, so the caller can check it bit for bit.
"""
import json
import sys
import time

import PIL
from PIL import Image

BICUBIC = getattr(Image, "Resampling", Image).BICUBIC


def main() -> None:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        with open(req["path"], "rb") as f:
            data = f.read()
        im = Image.frombytes("RGB", (req["width"], req["height"]), data)
        size = (req["out"], req["out"])
        times = []
        cpu = []
        out = None
        for _ in range(req.get("reps", 1)):
            c0 = time.process_time()
            t0 = time.perf_counter()
            out = im.resize(size, BICUBIC)
            times.append((time.perf_counter() - t0) * 1000.0)
            cpu.append((time.process_time() - c0) * 1000.0)
        if req.get("save") and out is not None:
            with open(req["save"], "wb") as f:
                f.write(out.tobytes())
        print(json.dumps({"ms": times, "cpu_ms": cpu, "pil": PIL.__version__}), flush=True)


if __name__ == "__main__":
    main()
