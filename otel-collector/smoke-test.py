#!/usr/bin/env python3
"""End-to-end smoke test of the observability pipeline, with no agent involved:

  OTLP/HTTP JSON (testdata/contract-metrics.otlp.json, counters growing per round)
    -> the collector built from builder-config.yaml (run.sh, config.yaml)
    -> its Prometheus exporter (/metrics: the names of the metric contract)
    -> Prometheus (run-prometheus.sh, prometheus.yml, alerts.yml)
    -> every dashboard query returns data, HighwaterIgnoredWrites fires.

    python3 smoke-test.py                  # builds the collector first if needed (./build.sh)
    python3 smoke-test.py --no-prometheus  # collector and exporter names only

Every port is picked free at start (nothing here uses 4317/4318/9464/9090), so it
can run beside a collector or Prometheus already running. Processes it starts are
stopped at the end. Standard library only. Ends with "smoke: N passed, N failed".
"""
import argparse
import copy
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE = "highwater-smoke"

# The metric contract (shared/DESIGN.md): OTel name -> (Prometheus name, Prometheus type).
CONTRACT = {
    "backpressure.ignored.writes": ("backpressure_ignored_writes_total", "counter"),
    "backpressure.ignored.bytes": ("backpressure_ignored_bytes_total", "counter"),
    "backpressure.pending.bytes": ("backpressure_pending_bytes", "gauge"),
    "backpressure.connection.pending.bytes": ("backpressure_connection_pending_bytes", "gauge"),
    "backpressure.connections.blocked": ("backpressure_connections_blocked", "gauge"),
    "backpressure.drain.oldest_wait": ("backpressure_drain_oldest_wait_seconds", "gauge"),
    "backpressure.memory.limit": ("backpressure_memory_limit_bytes", "gauge"),
    "backpressure.agent.dropped": ("backpressure_agent_dropped_total", "counter"),
    "backpressure.drain.wait": ("backpressure_drain_wait_seconds", "histogram"),
    "backpressure.drain.stalls": ("backpressure_drain_stalls_total", "counter"),
    "backpressure.kernel.queued.bytes": ("backpressure_kernel_queued_bytes", "gauge"),
}
# attribute -> label, and resource attribute -> label
LABELS = {"backpressure_layer", "backpressure_signal", "code_function_name", "job", "instance",
          "network_peer_address", "network_peer_port", "server_port", "backpressure_memory_kind",
          "backpressure_dropped_kind"}

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail and not ok else ""), flush=True)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_http(url, seconds, proc):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if http_get(url, 2)[0] == 200:
                return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def payload(round_no):
    """The example payload with fresh timestamps and counters that grow each round."""
    with open(os.path.join(HERE, "testdata", "contract-metrics.otlp.json"), encoding="utf-8") as f:
        text = f.read()
    now = time.time_ns()
    text = text.replace("__NOW__", str(now)).replace("__START__", str(now - 600 * 10**9))
    body = json.loads(text)
    for rm in body["resourceMetrics"]:
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                if "sum" in m:
                    for dp in m["sum"]["dataPoints"]:
                        if m["name"] != "backpressure.agent.dropped":  # stays 0: a well-behaved cap
                            dp["asInt"] = str(int(dp["asInt"]) * round_no)
                if "histogram" in m:
                    for dp in m["histogram"]["dataPoints"]:
                        dp["bucketCounts"] = [str(int(c) * round_no) for c in dp["bucketCounts"]]
                        dp["count"] = str(int(dp["count"]) * round_no)
                        dp["sum"] = dp["sum"] * round_no
    return json.dumps(body).encode()


def send(port, round_no):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/metrics", data=payload(round_no),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def parse_exposition(text):
    types, samples = {}, []
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            types[m.group(1)] = m.group(2)
        elif line and not line.startswith("#"):
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)", line)
            if m:
                labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
                samples.append((m.group(1), labels, m.group(4)))
    return types, samples


def prom_query(base, expr):
    _, body = http_get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    return json.loads(body)["data"]["result"]


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-prometheus", action="store_true", help="skip the Prometheus part")
    ap.add_argument("--rounds", type=int, default=10, help="OTLP exports to send, 3s apart (default 10)")
    a = ap.parse_args()

    built = subprocess.run([os.path.join(HERE, "build.sh")], cwd=HERE)
    if not check("collector built (build.sh)", built.returncode == 0):
        return finish()
    use_prom = not a.no_prometheus
    if use_prom and not shutil.which("prometheus"):
        check("prometheus on PATH (./install-prometheus.sh)", False, "not found")
        return finish()

    ports = {k: free_port() for k in ("grpc", "http", "exporter", "health", "telemetry", "prometheus")}
    env = dict(os.environ,
               HIGHWATER_OTLP_GRPC_PORT=str(ports["grpc"]), HIGHWATER_OTLP_HTTP_PORT=str(ports["http"]),
               HIGHWATER_PROMETHEUS_EXPORTER_PORT=str(ports["exporter"]),
               HIGHWATER_HEALTH_CHECK_PORT=str(ports["health"]),
               HIGHWATER_COLLECTOR_TELEMETRY_PORT=str(ports["telemetry"]),
               HIGHWATER_PROMETHEUS_PORT=str(ports["prometheus"]))
    env.pop("HIGHWATER_TRACES_OTLP_ENDPOINT", None)
    tmp = tempfile.mkdtemp(prefix="highwater-smoke-")
    env["HIGHWATER_PROMETHEUS_DATA"] = os.path.join(tmp, "prometheus-data")
    col_log = open(os.path.join(tmp, "collector.log"), "w")
    prom_log = open(os.path.join(tmp, "prometheus.log"), "w")
    collector = prometheus = None
    try:
        collector = subprocess.Popen([os.path.join(HERE, "run.sh")], cwd=HERE, env=env,
                                     stdout=col_log, stderr=subprocess.STDOUT)
        if not check("collector healthy (health_check extension)",
                     wait_http(f"http://127.0.0.1:{ports['health']}/", 60, collector),
                     f"see {col_log.name}"):
            return finish()
        if use_prom:
            prometheus = subprocess.Popen([os.path.join(HERE, "run-prometheus.sh")], cwd=HERE, env=env,
                                          stdout=prom_log, stderr=subprocess.STDOUT)
            check("prometheus ready", wait_http(f"http://127.0.0.1:{ports['prometheus']}/-/ready", 60, prometheus),
                  f"see {prom_log.name}")

        statuses = []
        for i in range(1, a.rounds + 1):
            statuses.append(send(ports["http"], i))
            time.sleep(3)
        check(f"{a.rounds} OTLP/HTTP JSON exports accepted", all(s == 200 for s in statuses), str(statuses))

        _, text = http_get(f"http://127.0.0.1:{ports['exporter']}/metrics")
        with open(os.path.join(tmp, "metrics.txt"), "w") as f:
            f.write(text)
        types, samples = parse_exposition(text)
        ours = [(n, l) for n, l, _ in samples if l.get("job") == SERVICE and n != "target_info"]
        check("target_info carries the other resource attributes (process.pid)",
              any(n == "target_info" and l.get("job") == SERVICE and "process_pid" in l for n, l, _ in samples))
        for otel, (prom, typ) in CONTRACT.items():
            names = [prom + s for s in ("_bucket", "_sum", "_count")] if typ == "histogram" else [prom]
            present = all(any(n == want for n, _ in ours) for want in names)
            check(f"{otel} -> {', '.join(names)} ({typ})", present and types.get(prom) == typ,
                  f"exporter has TYPE {types.get(prom)!r}; names seen: "
                  + ", ".join(sorted({n for n, _ in ours if n.startswith(prom.rsplit('_', 1)[0])})))
        unexpected = sorted({n for n, _ in ours if not any(n.startswith(p) for p, _ in CONTRACT.values())})
        check("no other metric names for the service", not unexpected, ", ".join(unexpected))
        seen_labels = set().union(*(l.keys() for _, l in ours)) if ours else set()
        check("attribute labels: " + ", ".join(sorted(LABELS)), LABELS <= seen_labels,
              "missing " + ", ".join(sorted(LABELS - seen_labels)))
        check("instance = service.instance.id", all(l.get("instance") == "smoke-1" for _, l in ours))
        check("deployment.environment.name copied onto every series (resource_constant_labels)",
              all(l.get("deployment_environment_name") == "test" for _, l in ours))
        check("no process.pid label on series (resource stays on target_info)",
              not any("process_pid" in l for _, l in ours))

        if use_prom:
            base = f"http://127.0.0.1:{ports['prometheus']}"
            time.sleep(6)  # one more scrape
            for otel, (prom, typ) in CONTRACT.items():
                name = prom + "_bucket" if typ == "histogram" else prom
                check(f"prometheus has {name}", bool(prom_query(base, f'{name}{{job="{SERVICE}"}}')))
            dash = subprocess.run([sys.executable, os.path.join(HERE, "check-dashboard.py"),
                                   "--prometheus", base], cwd=HERE)
            check("dashboard valid and every dashboard query returns data", dash.returncode == 0)
            firing = set()
            deadline = time.time() + 30
            while time.time() < deadline and "HighwaterIgnoredWrites" not in firing:
                _, body = http_get(base + "/api/v1/alerts")
                firing = {x["labels"]["alertname"] for x in json.loads(body)["data"]["alerts"]
                          if x["state"] == "firing"}
                time.sleep(2)
            check("alert HighwaterIgnoredWrites firing", "HighwaterIgnoredWrites" in firing, str(sorted(firing)))
            check("alert HighwaterDrainStalls firing", "HighwaterDrainStalls" in firing, str(sorted(firing)))
            _, body = http_get(base + "/api/v1/rules")
            bad = [r["name"] for g in json.loads(body)["data"]["groups"] for r in g["rules"] if r["health"] != "ok"]
            check("all rules evaluate without error", not bad, ", ".join(bad))
    finally:
        stop(prometheus)
        stop(collector)
        col_log.close()
        prom_log.close()
        print(f"logs and the scraped /metrics: {tmp}")
    return finish()


def finish():
    passed, failed = results.count(True), results.count(False)
    print(f"smoke: {passed} passed, {failed} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
