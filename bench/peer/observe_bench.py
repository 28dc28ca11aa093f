#!/usr/bin/python3
"""observe() cost per call for prometheus_client; the peer of observe-bench.ts, variant for variant.

Each variant calls one function per iteration on pre-built arguments, `calls` times, timed with
time.perf_counter(); `warmup` untimed repeats, then `repeats` timed ones; prints one JSON line
with ns/call per repeat. Run with Debian's interpreter:
    /usr/bin/python3 bench/peer/observe_bench.py [--calls 200000] [--repeats 7] [--warmup 2]
"""
import argparse
import json
import platform
import time
from importlib.metadata import version

# Sets PROMETHEUS_DISABLE_CREATED_SERIES before prometheus_client is imported, as the server does.
from python_metrics_server import PeerMetrics, load_spec, observation_values
from prometheus_client import CollectorRegistry, Histogram


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--spec", help="JSON object overriding DEFAULT_SPEC (buckets, status codes, stages)")
    args = parser.parse_args()
    calls = args.calls
    spec = load_spec(args.spec)

    values = observation_values(calls)
    ids = [f"req-{i}" for i in range(calls)]
    stages = {"queue": 12.5, "decode_image": 6.25, "tokenize": 0.7, "inference": 150, "postprocess": 0.05}

    registry = CollectorRegistry()
    raw = Histogram("bench_raw_seconds", "raw", buckets=spec["request_latency_buckets"], registry=registry)
    labelled = Histogram(
        "bench_labelled_seconds", "labelled", ["stage"], buckets=spec["stage_latency_buckets"], registry=registry
    )
    service = PeerMetrics(spec, default_metrics=False)

    # Arguments are built here, outside the timed loops.
    exemplar_args = [(v, {"request_id": i}) for v, i in zip(values, ids)]
    record_args = [(i, v * 1000) for v, i in zip(values, ids)]

    sink = [0.0]

    def noop(v):
        sink[0] += v

    # One explicit loop per variant, each in the idiomatic (fastest) Python shape.
    def loop_overhead():
        f = noop
        start = time.perf_counter()
        for v in values:
            f(v)
        return time.perf_counter() - start

    def histogram_observe():
        f = raw.observe
        start = time.perf_counter()
        for v in values:
            f(v)
        return time.perf_counter() - start

    def labelled_histogram_observe():
        f = labelled.labels
        start = time.perf_counter()
        for v in values:
            f("inference").observe(v)
        return time.perf_counter() - start

    def histogram_observe_exemplar():
        f = service.latency.observe
        start = time.perf_counter()
        for v, exemplar in exemplar_args:
            f(v, exemplar)
        return time.perf_counter() - start

    def record_request():
        f = service.record_request
        start = time.perf_counter()
        for request_id, ms in record_args:
            f(request_id, 200, "YES", ms, stages)
        return time.perf_counter() - start

    variants = {
        "loop_overhead": loop_overhead,
        "histogram_observe": histogram_observe,
        "labelled_histogram_observe": labelled_histogram_observe,
        "histogram_observe_exemplar": histogram_observe_exemplar,
        "record_request": record_request,
    }
    samples = {}
    for name, run in variants.items():
        for _ in range(args.warmup):
            run()
        samples[name] = [run() * 1e9 / calls for _ in range(args.repeats)]

    print(
        json.dumps(
            {
                "language": "python",
                "runtime": f"{platform.python_implementation()} {platform.python_version()}",
                "library": f"prometheus_client {version('prometheus_client')}",
                "calls": calls,
                "repeats": args.repeats,
                "warmup": args.warmup,
                "samplesNs": samples,
            }
        )
    )


if __name__ == "__main__":
    main()
