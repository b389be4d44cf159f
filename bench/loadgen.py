"""HTTP load generator of the bench: a separate process (no Django), threads + http.client,
only to 127.0.0.1. Signs in through the login page (session cookie + CSRF token) like a
browser behind the TLS proxy (X-Forwarded-Proto: https), then runs one scenario and prints one
JSON object on stdout.

    loadgen.py rate  --config C.json --user U --path /api/v1/incidents --threads 8 --seconds 20
    loadgen.py paced --config C.json --user U --rate 50 --seconds 60 --out ids.json
    loadgen.py get   --config C.json --user U --path /x --path /y --count 100

Every scenario is bounded in time and count; errors are counted, never retried.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import statistics
import sys
import threading
import time
from urllib.parse import urlencode

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Session:
    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.port = port
        self.cookies = dict(cookies or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        origin = f"https://127.0.0.1:{self.port}"
        sent = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "Accept-Language": "zh-hans",
            "Referer": origin + "/",
            **(headers or {}),
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET":
            sent["Origin"] = origin
            if "csrftoken" in self.cookies:
                sent["X-CSRFToken"] = self.cookies["csrftoken"]
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # keep-alive closed by the server: reconnect once
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                self.cookies[key.strip()] = val.strip()
        return response.status, data

    def login(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/accounts/login/")
        match = CSRF_INPUT.search(page.decode("utf-8", "replace"))
        if status != 200 or not match:
            raise SystemExit(f"login page: HTTP {status}")
        form = urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)}
        ).encode()
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"login of {username} failed: HTTP {status}")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Bodies:
    """Request bodies: an incident report at a random point of the city, or the minimal row."""

    def __init__(self, config: dict, kind: str, channel: str = "") -> None:
        self.kind = kind
        self.city = config["city"]
        self.cells = config["cells"]
        self.categories = config["categories"]
        self.channel = channel
        self.counter = 0
        self.lock = threading.Lock()

    def point(self, rng: random.Random) -> tuple[float, float]:
        index = rng.randrange(self.cells)
        row, column = divmod(index, self.city["columns"])
        size = self.city["cell_deg"]
        lng = self.city["lng0"] + (column + 0.1 + 0.8 * rng.random()) * size
        lat = self.city["lat0"] + (row + 0.1 + 0.8 * rng.random()) * size
        return round(lat, 7), round(lng, 7)

    def make(self, rng: random.Random) -> bytes:
        with self.lock:
            self.counter += 1
            number = self.counter
        if self.kind == "minimal":
            return json.dumps({"note": f"bench {number}"}).encode()
        lat, lng = self.point(rng)
        body = {
            "category": rng.choice(self.categories),
            "description": f"压测上报 {number}:路灯不亮,影响夜间通行。",
            "lat": lat,
            "lng": lng,
            "address": f"基准路{number % 500}号",
        }
        if self.channel:
            body["channel"] = self.channel
        return json.dumps(body, ensure_ascii=False).encode()


def run_rate(args, config: dict, cookies: dict) -> dict:
    """Closed loop: --threads clients POST as fast as the server answers for --seconds."""
    bodies = Bodies(config, args.body, args.channel)
    stop_at = time.monotonic() + args.seconds
    latencies: list[float] = []
    codes: dict[int, int] = {}
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        session = Session(args.port, cookies)
        local, local_codes = [], {}
        while time.monotonic() < stop_at:
            body = bodies.make(rng)
            began = time.perf_counter()
            status, _data = session.request(
                "POST", args.path[0], body, {"Content-Type": "application/json"}
            )
            local.append((time.perf_counter() - began) * 1000)
            local_codes[status] = local_codes.get(status, 0) + 1
        with lock:
            latencies.extend(local)
            for code, count in local_codes.items():
                codes[code] = codes.get(code, 0) + count

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    ok = codes.get(201, 0)
    return {
        "path": args.path[0],
        "threads": args.threads,
        "seconds": round(elapsed, 2),
        "requests": sum(codes.values()),
        "accepted": ok,
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
        "accepted_per_s": round(ok / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) or 0, 1),
        "p95_ms": round(percentile(latencies, 95) or 0, 1),
    }


def run_paced(args, config: dict, cookies: dict) -> dict:
    """Open loop: one report every 1/--rate s for --seconds, whatever the answers take. Writes
    (incident id, wall-clock time the response arrived) of every accepted report to --out."""
    bodies = Bodies(config, "incident", args.channel)
    total = int(args.rate * args.seconds)
    start = time.monotonic() + 0.5
    results: list[tuple[int, float]] = []
    codes: dict[int, int] = {}
    late: list[float] = []
    lock = threading.Lock()
    threads_n = args.threads

    # Bounded: whatever is not sent by then (the server could not keep the pace) is counted
    # as unsent, not sent late for minutes.
    give_up = start + args.seconds * 1.5 + 5

    def client(k: int) -> None:
        rng = random.Random(1000 + k)
        session = Session(args.port, cookies)
        for i in range(k, total, threads_n):
            due = start + i / args.rate
            if time.monotonic() > give_up:
                with lock:
                    codes[0] = codes.get(0, 0) + 1  # 0: not sent in time
                continue
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            body = bodies.make(rng)
            sent = time.monotonic()
            status, data = session.request(
                "POST", "/api/v1/incidents", body, {"Content-Type": "application/json"}
            )
            answered = time.time()
            with lock:
                late.append((sent - due) * 1000)
                codes[status] = codes.get(status, 0) + 1
                if status == 201:
                    results.append((json.loads(data)["id"], answered))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(threads_n)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    with open(args.out, "w") as handle:
        json.dump(results, handle)
    return {
        "rate_per_s": args.rate,
        "seconds": round(elapsed, 1),
        "sent": total,
        "accepted": len(results),
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
        "unsent": codes.get(0, 0),
        "achieved_per_s": round(len(results) / max(elapsed, 1e-9), 1),
        "send_delay_p95_ms": round(percentile(late, 95) or 0, 1),
    }


def run_get(args, config: dict, cookies: dict) -> dict:
    """One client, sequential GETs of each --path, --count times (after 3 warm-up requests)."""
    session = Session(args.port, cookies)
    out = {}
    for path in args.path:
        began = time.perf_counter()
        session.request("GET", path)  # the first (cold caches), then 2 more warm-ups
        first_ms = (time.perf_counter() - began) * 1000
        for _ in range(2):
            session.request("GET", path)
        latencies, codes, size = [], {}, 0
        for _ in range(args.count):
            began = time.perf_counter()
            status, data = session.request("GET", path)
            latencies.append((time.perf_counter() - began) * 1000)
            codes[status] = codes.get(status, 0) + 1
            size = len(data)
        out[path] = {
            "count": args.count,
            "first_ms": round(first_ms, 1),
            "status_codes": {str(k): v for k, v in codes.items()},
            "bytes": size,
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(percentile(latencies, 95), 1),
            "max_ms": round(max(latencies), 1),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["rate", "paced", "get"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--path", action="append", default=[])
    parser.add_argument("--body", default="incident", choices=["incident", "minimal"])
    parser.add_argument("--channel", default="")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    with open(args.config) as handle:
        config = json.load(handle)
    args.port = config["port"]
    session = Session(args.port)
    session.login(args.user, config["password"])
    scenario = {"rate": run_rate, "paced": run_paced, "get": run_get}[args.scenario]
    result = scenario(args, config, session.cookies)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
