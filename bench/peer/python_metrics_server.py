#!/usr/bin/python3
"""Peer side of the issue-6 baseline: the seed's stack, Python prometheus_client.

The same metric families, label names, buckets and pre-initialised series as
main/telemetry/service-metrics.ts, in prometheus_client's own CollectorRegistry
with its default collectors (process, platform, gc), populated with the same
synthetic traffic as bench/peer/synthetic.ts (bit-identical observations) and
served with prometheus_client's standard server, start_http_server() (a
wsgiref ThreadingWSGIServer running make_wsgi_app(registry) in a daemon thread).

Run with Debian's interpreter (python3-prometheus-client):
    /usr/bin/python3 bench/peer/python_metrics_server.py [--port 0] [--requests 10000]
Prints one line `listening http://127.0.0.1:PORT/metrics` when ready.
"""
import argparse
import json
import os
import signal
import socket
import sys

# prometheus_client adds a `<name>_created` series per counter/histogram child; prom-client
# has no such series. Turned off (the library's documented switch, read at import time) so
# both sides expose the same ofa_ve_* series.
os.environ.setdefault("PROMETHEUS_DISABLE_CREATED_SERIES", "True")

from prometheus_client import (  # noqa: E402
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.gc_collector import GCCollector  # noqa: E402
from prometheus_client.platform_collector import PlatformCollector  # noqa: E402
from prometheus_client.process_collector import ProcessCollector  # noqa: E402

# Defaults for a standalone run, copied from main/telemetry/metric-buckets.ts,
# main/telemetry/service-metrics.ts and main/inference/entailment-types.ts. run-peer-bench.ts
# passes the live values from those modules with --spec, so the two sides cannot drift apart.
DEFAULT_SPEC = {
    "request_latency_buckets": [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    "stage_latency_buckets": [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    "batch_size_buckets": [1, 2, 4, 8, 16, 32],
    "check_status_codes": [200, 400, 401, 403, 413, 415, 500, 503],
    "stages": ["queue", "decode_image", "tokenize", "inference", "postprocess"],
}
# bench/peer/synthetic.ts and node-metrics-server.ts
DEFAULT_SEED = 0x9E3779B9
DEFAULT_REQUESTS = 10_000
RESULTS = ["YES", "NO", "MAYBE"]
APP_VERSION = "0.1.0"
MODEL = {"model": "ofa-ve-demo", "version": "1", "provider": "cpu", "demo": "true"}

_MASK = 0xFFFFFFFF


def xorshift32(seed):
    """Same generator as synthetic.ts: doubles in [0, 1)."""
    x = (seed & _MASK) or 1

    def next_value():
        nonlocal x
        x ^= (x << 13) & _MASK
        x ^= x >> 17
        x ^= (x << 5) & _MASK
        return x / 4294967296

    return next_value


def load_spec(text):
    """--spec: a JSON object overriding DEFAULT_SPEC's keys."""
    spec = dict(DEFAULT_SPEC)
    if text:
        spec.update(json.loads(text))
    return spec


def synthetic_requests(spec, count=DEFAULT_REQUESTS, seed=DEFAULT_SEED):
    """Line-for-line mirror of syntheticRequests() in synthetic.ts."""
    error_status_codes = [code for code in spec["check_status_codes"] if code != 200]
    nxt = xorshift32(seed)
    for i in range(count):
        ok = nxt() < 0.9
        status_code = 200 if ok else error_status_codes[int(nxt() * len(error_status_codes))]
        result_type = RESULTS[int(nxt() * len(RESULTS))] if ok else "ERROR"
        a = nxt()
        b = nxt()
        latency_ms = 40 + 900 * a * a * a + 60 * b
        request = {"id": f"req-{i}", "status_code": status_code, "result_type": result_type, "latency_ms": latency_ms}
        if ok:
            request["stages"] = {
                "queue": latency_ms * 0.2 * nxt(),
                "decode_image": 3 + 10 * nxt(),
                "tokenize": 0.2 + nxt(),
                "inference": latency_ms * 0.5,
                "postprocess": 0.1 * nxt(),
            }
        if i % 4 == 3:
            request["batch_size"] = 1 + int(nxt() * 16)
        yield request


def observation_values(count, seed=DEFAULT_SEED):
    """Same as observationValues() in synthetic.ts (seconds)."""
    nxt = xorshift32(seed)
    values = []
    for _ in range(count):
        a = nxt()
        values.append((40 + 900 * a * a * a) / 1000)
    return values


class PeerMetrics:
    """The ServiceMetrics families, in prometheus_client."""

    def __init__(self, spec, default_metrics=True):
        self.stages = spec["stages"]
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        # prometheus_client appends _total to a counter's name; the family is ofa_ve_request_total.
        self.requests = Counter(
            "ofa_ve_request",
            "Visual entailment check requests, by HTTP status code and result (YES, NO, MAYBE or ERROR).",
            ["status_code", "result_type"],
            registry=registry,
        )
        for status in spec["check_status_codes"]:
            for result in (RESULTS if status == 200 else ["ERROR"]):
                self.requests.labels(str(status), result)
        self.latency = Histogram(
            "ofa_ve_request_latency_seconds",
            "End-to-end latency of successful checks, from request received to answer sent.",
            buckets=spec["request_latency_buckets"],
            registry=registry,
        )
        self.stage_latency = Histogram(
            "ofa_ve_stage_latency_seconds",
            "Time spent per pipeline stage of successful checks (queue, decode_image, tokenize, inference, postprocess).",
            ["stage"],
            buckets=spec["stage_latency_buckets"],
            registry=registry,
        )
        self._stage_children = {stage: self.stage_latency.labels(stage) for stage in self.stages}
        self.batch_size = Histogram(
            "ofa_ve_batch_size",
            "Pairs per model run, as formed by the dynamic batcher.",
            buckets=spec["batch_size_buckets"],
            registry=registry,
        )
        self.queue_depth = Gauge("ofa_ve_queue_depth", "Checks waiting for the model.", registry=registry)
        self.inflight = Gauge(
            "ofa_ve_inflight_requests", "Checks accepted and not yet answered (queued or running).", registry=registry
        )
        self.model_info = Gauge(
            "ofa_ve_model_info",
            'The loaded model (value 1); demo="true" means its answers are not meaningful.',
            ["model", "version", "provider", "demo"],
            registry=registry,
        )
        self.build_info = Gauge("ofa_ve_build_info", "The app build (value 1).", ["version"], registry=registry)
        self.build_info.labels(APP_VERSION).set(1)
        if default_metrics:
            # What prometheus_client's global REGISTRY carries by default.
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)

    def set_model(self, model):
        self.model_info.clear()
        if model:
            self.model_info.labels(model["model"], model["version"], model["provider"], model["demo"]).set(1)

    def record_request(self, request_id, status_code, result_type, latency_ms, stages=None):
        """Mirror of ServiceMetrics.recordRequest()."""
        self.requests.labels(str(status_code), result_type).inc()
        if status_code != 200:
            return
        self.latency.observe(latency_ms / 1000, {"request_id": request_id})
        if stages:
            for stage in self.stages:
                ms = stages.get(stage)
                if ms is not None:
                    self._stage_children[stage].observe(ms / 1000)


def populated_metrics(spec, requests=DEFAULT_REQUESTS, seed=DEFAULT_SEED):
    metrics = PeerMetrics(spec)
    metrics.set_model(MODEL)
    for r in synthetic_requests(spec, requests, seed):
        metrics.record_request(r["id"], r["status_code"], r["result_type"], r["latency_ms"], r.get("stages"))
        if "batch_size" in r:
            metrics.batch_size.observe(r["batch_size"])
    metrics.queue_depth.set(3)
    metrics.inflight.set(5)
    return metrics


def free_port(host):
    # start_http_server() in prometheus_client 0.16 returns nothing, so port 0 cannot be read
    # back from it: pick a free port first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS)
    parser.add_argument("--spec", help="JSON object overriding DEFAULT_SPEC (buckets, status codes, stages)")
    args = parser.parse_args()
    metrics = populated_metrics(load_spec(args.spec), args.requests)
    port = args.port or free_port(args.host)
    start_http_server(port, addr=args.host, registry=metrics.registry)
    print(f"listening http://{args.host}:{port}/metrics", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
