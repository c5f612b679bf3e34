"""bench.simulator: how fast one gunicorn worker serves recorded values, and how much memory it holds.

1. Throughput: a `streamsets/recorded` call of 100 tags x 1,500 values and single-stream `recorded`
   calls of 150,000 values, served by ONE worker (bench/scenarios/bench.yaml, frozen clock, so the
   counts are exact) to a client that only reads the bytes. Median and best of `repeats` calls.
2. The floor: `orjson.dumps` of the same response, parsed once into Python objects: what pure
   serialisation of those values costs. serve/floor says how far the simulator is from it.
3. Memory: VmRSS/VmHWM of the worker and the master serving the 30,000-tag `large` scenario
   through a series of realistic calls.
"""
from __future__ import annotations

import http.client
import os
import time
from pathlib import Path
from urllib.parse import quote
from urllib.parse import urlsplit

import orjson

from simulator.testing import SimulatorProcess

from . import Figure
from . import Options
from . import median

NAME = "simulator"
SCENARIO = Path(__file__).resolve().parent / "scenarios" / "bench.yaml"
VALUES = 150_000
GOAL_VALUES_PER_S = 1_000_000
MEMORY_BUDGET_MB = 300
CHUNK = 4 << 20

SET_TAGS, SET_COUNT = 100, 1_500
SINGLE_TAG = "B.U01.FT"      # whole-second timestamps
SUBSECOND_TAG = "B.U01.PT"   # 7-digit fractions


# -- HTTP: read the bytes, parse nothing ----------------------------------------------------------

class Client:
    """A raw http.client reader: one connection per call (gunicorn's sync worker closes it)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.buffer = memoryview(bytearray(CHUNK))

    def _open(self, path: str) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = conn.getresponse()
        if response.status != 200:
            body = response.read()[:500]
            conn.close()
            raise RuntimeError(f"GET {path[:120]}... -> {response.status}: {body!r}")
        return response

    def drain(self, path: str) -> int:
        """GET path and read the body in large chunks, discarding it; the number of bytes."""
        response = self._open(path)
        total = 0
        while True:
            n = response.readinto(self.buffer)
            if not n:
                break
            total += n
        response.close()
        return total

    def body(self, path: str) -> bytes:
        response = self._open(path)
        data = response.read()
        response.close()
        return data

    def json(self, path: str):
        return orjson.loads(self.body(path))


# -- /proc ---------------------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def worker_pid(master: int, timeout: float = 10.0) -> int:
    """The gunicorn worker under `master` (SimulatorProcess runs `python -m gunicorn`: the master)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children(master)
        if kids:
            return kids[0]
        time.sleep(0.05)
    raise RuntimeError(f"no gunicorn worker under pid {master}")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MB (10^6 bytes)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0]) * 1024 / 1e6
    return out


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (writing 5 to /proc/<pid>/clear_refs); False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the calls -----------------------------------------------------------------------------------

def count_values(body: bytes) -> int:
    doc = orjson.loads(body)
    items = doc["Items"]
    if items and "WebId" in items[0]:
        return sum(len(member["Items"]) for member in items)
    return len(items)


def points(client: Client, server: str, *, page: int = 1000) -> list[dict]:
    found, start = [], 0
    while True:
        doc = client.json(f"/piwebapi/dataservers/{server}/points?startIndex={start}&maxCount={page}")
        found += doc["Items"]
        if "Next" not in doc.get("Links", {}):
            return found
        start += page


def data_server(client: Client) -> str:
    return client.json("/piwebapi/dataservers")["Items"][0]["WebId"]


# 100 WebIDs make a ~6,200-byte request line, over the 4,094 the simulator allows like a real server
# (clients split such reads: the connector cuts tag groups to source.max_url_bytes). These figures
# measure serving 100 streams in one response, so the bench's simulators take gunicorn's maximum.
LONG_URLS = ("--limit-request-line", "8190")


def web_ids_query(web_ids: list[str]) -> str:
    return "&".join("webId=" + quote(w, safe="") for w in web_ids)


def measure(client: Client, path: str, worker: int, options: Options) -> dict:
    """Warm up, then time `repeats` calls; the last body is parsed (outside the timing) for the count."""
    for _ in range(options.warmup):
        client.drain(path)
    times, sizes = [], []
    cpu_before = cpu_seconds(worker)
    for _ in range(options.repeats):
        t0 = time.perf_counter()
        sizes.append(client.drain(path))
        times.append(time.perf_counter() - t0)
    cpu = (cpu_seconds(worker) - cpu_before) / options.repeats
    body = client.body(path)
    count = count_values(body)
    if count != VALUES or len(set(sizes)) != 1 or sizes[0] != len(body):
        raise RuntimeError(f"{path[:80]}...: {count} values (want {VALUES}), sizes {sorted(set(sizes))}")
    return {"times": times, "bytes": len(body), "body": body, "cpu": cpu}


def floor(body: bytes, options: Options) -> list[float]:
    """Seconds to orjson.dumps the response, parsed once into Python objects."""
    doc = orjson.loads(body)
    for _ in range(max(1, options.warmup)):
        orjson.dumps(doc)
    samples = []
    for _ in range(options.repeats):
        t0 = time.perf_counter()
        orjson.dumps(doc)
        samples.append(time.perf_counter() - t0)
    return samples


def throughput_figures(label: str, result: dict, floor_times: list[float], *,
                       first: bool = False) -> list[Figure]:
    times = result["times"]
    med, best = median(times), min(times)
    floor_med = median(floor_times)
    mb = result["bytes"] / 1e6
    goal, target = f">= {GOAL_VALUES_PER_S:,}", GOAL_VALUES_PER_S
    return [
        Figure(f"{label}: values/s (median)", VALUES / med, "values/s", goal, VALUES / med / target,
               "value/goal", f"{len(times)} calls, {med * 1000:.0f} ms median, {mb:.1f} MB body"),
        Figure(f"{label}: values/s (best)", VALUES / best, "values/s", goal, VALUES / best / target,
               "value/goal"),
        Figure(f"{label}: MB/s (median)", mb / med, "MB/s"),
        Figure(f"{label}: values per worker CPU-second", VALUES / result["cpu"], "values/s", goal,
               VALUES / result["cpu"] / GOAL_VALUES_PER_S, "value/goal",
               "worker utime+stime per call from /proc/<pid>/stat: steadier than wall time on a busy machine"
               if first else ""),
        Figure(f"{label}: floor, orjson.dumps", VALUES / floor_med, "values/s", "", med / floor_med,
               "serve/floor", f"{floor_med * 1000:.0f} ms median to serialise the parsed response"),
    ]


def run_throughput(options: Options) -> list[Figure]:
    figures: list[Figure] = []
    with SimulatorProcess(str(SCENARIO), workers=1, extra_args=LONG_URLS) as sim:
        client = Client(sim.url)
        worker = worker_pid(sim.pid)
        server = data_server(client)
        found = points(client, server)
        by_name = {p["Name"]: p["WebId"] for p in found}
        set_ids = [p["WebId"] for p in found[:SET_TAGS]]
        calls = [
            (f"streamsets/recorded {SET_TAGS} x {SET_COUNT:,}",
             f"/piwebapi/streamsets/recorded?{web_ids_query(set_ids)}&startTime=*-1h&endTime=*"
             f"&maxCount={SET_COUNT}"),
            (f"recorded 1 x {VALUES:,} (whole s)",
             f"/piwebapi/streams/{by_name[SINGLE_TAG]}/recorded?startTime=*-2d&endTime=*&maxCount={VALUES}"),
        ]
        if not options.quick:
            calls.append((f"recorded 1 x {VALUES:,} (sub-second)",
                          f"/piwebapi/streams/{by_name[SUBSECOND_TAG]}/recorded?startTime=*-2d&endTime=*"
                          f"&maxCount={VALUES}"))
        for n, (label, path) in enumerate(calls):
            result = measure(client, path, worker, options)
            figures += throughput_figures(label, result, floor(result["body"], options), first=n == 0)
        figures.append(Figure("throughput calls: worker peak RSS (VmHWM)", memory_mb(worker)["VmHWM"], "MB",
                              note="one worker after every timed call above (the body is built in memory)"))
    return figures


# -- memory --------------------------------------------------------------------------------------

def run_memory(options: Options) -> list[Figure]:
    t0 = time.perf_counter()
    with SimulatorProcess("large", workers=1, extra_args=LONG_URLS) as sim:
        startup = time.perf_counter() - t0
        worker = worker_pid(sim.pid)
        client = Client(sim.url)
        after_start = memory_mb(worker)
        master_start = memory_mb(sim.pid)
        server = data_server(client)
        found = points(client, server)  # 30 pages of 1,000 points
        ids = [p["WebId"] for p in found]
        step = max(1, len(ids) // SET_TAGS)
        spread = ids[::step][:SET_TAGS]
        query = web_ids_query(spread)
        calls = {
            "streamsets recorded 100 tags x 1 h": f"/piwebapi/streamsets/recorded?{query}&startTime=*-1h"
                                                  f"&endTime=*&maxCount=1000",
            "streamsets interpolated 100 tags x 1 d at 1 m": f"/piwebapi/streamsets/interpolated?{query}"
                                                             f"&startTime=*-1d&endTime=*&interval=1m",
            "streamsets summary All 100 tags x 1 d": f"/piwebapi/streamsets/summary?{query}&startTime=*-1d"
                                                     f"&endTime=*&summaryType=All",
            "recorded 1 tag x 7 d (maxCount 150,000)": f"/piwebapi/streams/{ids[0]}/recorded?startTime=*-7d"
                                                       f"&endTime=*&maxCount=150000",
            "interpolated 1 tag x 30 d at 1 h": f"/piwebapi/streams/{ids[-1]}/interpolated?startTime=*-30d"
                                                f"&endTime=*&interval=1h",
            "summary All 1 tag x 7 d by 1 d": f"/piwebapi/streams/{ids[len(ids) // 2]}/summary?startTime=*-7d"
                                              f"&endTime=*&summaryType=All&summaryDuration=1d",
        }
        peaks = {"points paged 30 x 1,000": memory_mb(worker)["VmHWM"]}
        for label, path in calls.items():
            resettable = reset_peak(worker)
            client.drain(path)
            if resettable:
                peaks[label] = memory_mb(worker)["VmHWM"]
        worker_end, master_end = memory_mb(worker), memory_mb(sim.pid)
        worker_peak = max([worker_end["VmHWM"], *peaks.values()])
    if len(found) != 30_000:
        raise RuntimeError(f"large: paged {len(found)} points, want 30,000")
    budget = f"<= {MEMORY_BUDGET_MB}"
    return [
        Figure("large: startup (load 30,000 tags, fork, /health)", startup, "s"),
        Figure("large: worker RSS after start", after_start["VmRSS"], "MB", budget,
               after_start["VmRSS"] / MEMORY_BUDGET_MB, "value/goal"),
        Figure("large: worker peak RSS (VmHWM) over the calls", worker_peak, "MB", budget,
               worker_peak / MEMORY_BUDGET_MB, "value/goal",
               "peak per call: " + "; ".join(f"{k} {v:.0f} MB" for k, v in peaks.items())),
        Figure("large: worker RSS after the calls", worker_end["VmRSS"], "MB"),
        Figure("large: master peak RSS (VmHWM)", master_end["VmHWM"], "MB", budget,
               master_end["VmHWM"] / MEMORY_BUDGET_MB, "value/goal",
               f"master RSS at start {master_start['VmRSS']:.0f} MB (preload: the scenario is loaded here)"),
    ]


def run(options: Options) -> list[Figure]:
    return run_throughput(options) + run_memory(options)
