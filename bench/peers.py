"""bench.peers: the connector side by side with tagreader 6 and pyspark-pi, same tags, window and simulator.

One simulator (gunicorn, 2 workers, clock pinned at NOW) serves every reader in turn; each reader
runs in a fresh process (the peers in their own virtualenvs under .bench/peers/, made on first use)
and writes the (tag, timestamp) of every row it returned, which is compared with the archive's
ground truth computed in this process from the same scenario:

    lost        events of [start, end) that the reader did not return
    duplicated  rows beyond the archive's count at a (tag, timestamp)
    foreign     rows at a (tag, timestamp) the archive does not hold (e.g. a rounded time)
    at end      rows at t = end exactly: right, but in the next window of an incremental reader

Readers: `pi-connector run` (whole process, recorded only, into a temporary Delta table), the
library call `connector.runner.extract` (timed inside its process), tagreader (IMSClient, PI Web API
handler, one RAW read per tag as it requires), pyspark-pi (local[2], one spark.read per value type),
and the connector's own Spark data source on local[1]/[2]/[4] once `connector.spark` exists.
Then a breakdown of the connector's time by stage and the orjson decode floor (bench.profile), the
1,000-tag case against the naive loop of bench.connector, and the import time of connector.cli.
"""
from __future__ import annotations

import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from . import OUT_DIR
from . import ROOT
from . import Figure
from . import Options

NAME = "peers"
NOW = "2026-11-25T00:00:00Z"
NS = 1_000_000_000
HERE = Path(__file__).resolve().parent / "peers"
VENVS = OUT_DIR / "peers"
CONNECTOR_30K = Path(__file__).resolve().parent / "scenarios" / "connector-30k.yaml"
GOAL_PEER = 5.0
GOAL_FLOOR = 0.7
GOAL_SCALING = 0.7

# What each peer's venv gets. tagreader 6.3.0 needs requests>=2.32.5 and pyspark-pi 0.3.0 pins
# requests==2.32.4, so they cannot share one. tagreader's requests-kerberos pulls gssapi, which needs
# krb5-config to build: where the plain install fails, tagreader and requests-kerberos go in without
# their dependencies and the rest is listed (tagreader imports requests_kerberos; it needs no Kerberos
# library unless a server asks for Negotiate). pyspark-pi lists neither pyspark nor packaging/dateutil,
# which it imports.
PEERS = {
    "tagreader": {
        "script": "tagreader_read.py",
        "install": [["tagreader==6.3.0"]],
        "fallback": [["--no-deps", "tagreader==6.3.0", "requests-kerberos"],
                     ["certifi>=2024.12.14,<2026", "diskcache>=5.6.1", "msal-bearer>=1.5.2", "pandas",
                      "platformdirs>=4.3.7", "pycryptodome>=3.20", "requests>=2.32.5", "requests-ntlm>=1.1,<=2.0",
                      "urllib3>=2.5", "pyspnego", "cryptography"]],
        "check": "import tagreader",
    },
    "pyspark-pi": {
        "script": "pysparkpi_read.py",
        "install": [["pyspark-pi==0.3.0", "pyspark=={pyspark}", "pyarrow", "pandas<3", "packaging",
                     "python-dateutil"]],
        "fallback": [],
        "check": "import pyspark_pi",
    },
}


# -- ground truth ---------------------------------------------------------------------------------

def _ns(text: str) -> int:
    from connector.paging import parse_ns

    return parse_ns(text)


def truth(scenario: str, names: list[str], start: str, end: str) -> tuple[dict[str, Counter], int]:
    """Per tag, a Counter of the archive's event times in [start, end); and how many sit at t = end."""
    from simulator.backend import Simulator
    from simulator.scenario import load_scenario
    from simulator.settings import Settings
    from simulator.backend.streams import open_stream

    sim = Simulator(load_scenario(scenario), Settings(now=NOW))
    now = sim.now()
    wanted = set(names)
    start_t, end_t = _ns(start) // 100, _ns(end) // 100
    expected, at_end = {}, 0
    for server in sim.catalog.data_servers:
        for entry in server.points:
            if entry.name not in wanted:
                continue
            stream = open_stream(entry, sim.catalog, sim.archive, now)
            ticks = stream.archive.recorded(start_t, end_t, now, max_count=10**9).ticks
            at_end += int((ticks == end_t).sum())
            expected[entry.name] = Counter((ticks[ticks < end_t] * 100).tolist())
    return expected, at_end


def analog_tags(scenario: str) -> list[tuple[str, str]]:
    """(name, point type) of the scenario's numeric tags, in its order."""
    from simulator.backend import Simulator
    from simulator.scenario import load_scenario
    from simulator.settings import Settings

    sim = Simulator(load_scenario(scenario), Settings(now=NOW))
    return [(e.name, e.point.point_type) for s in sim.catalog.data_servers for e in s.points
            if e.point.point_type in ("Float16", "Float32", "Float64", "Int16", "Int32")]


@dataclass
class Accuracy:
    lost: int = 0
    duplicated: int = 0
    foreign: int = 0
    at_end: int = 0

    def text(self) -> str:
        return f"lost {self.lost:,}, duplicated {self.duplicated:,}, foreign {self.foreign:,}, at end {self.at_end:,}"


def compare(expected: dict[str, Counter], keys: dict[str, list[int]], start: str, end: str) -> Accuracy:
    start_ns, end_ns = _ns(start), _ns(end)
    result = Accuracy()
    for tag, want in expected.items():
        got = Counter(keys.get(tag, []))
        for ns, n in got.items():
            if ns == end_ns:
                result.at_end += n
            elif ns not in want:
                result.foreign += n
            elif n > want[ns]:
                result.duplicated += n - want[ns]
        result.lost += sum(max(0, n - got.get(ns, 0)) for ns, n in want.items())
    result.foreign += sum(len(v) for tag, v in keys.items() if tag not in expected)
    del start_ns
    return result


# -- running a reader -----------------------------------------------------------------------------

@dataclass
class Outcome:
    """What one reader did: rows, seconds (its read), process seconds (start to exit), peaks."""

    reader: str
    values: int = 0
    seconds: float = float("nan")
    process_seconds: float = float("nan")
    import_seconds: float = float("nan")
    rusage_mb: float = float("nan")  # largest single process (getrusage of the reaped children)
    tree_mb: float = float("nan")  # the whole process tree (sampled), e.g. Spark's JVM and workers
    accuracy: Accuracy | None = None
    error: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.values / self.seconds if self.seconds and self.seconds == self.seconds else float("nan")

    @property
    def process_rate(self) -> float:
        return self.values / self.process_seconds if self.process_seconds == self.process_seconds else float("nan")


# Linux carries a process's peak RSS across fork+exec, so a reader started by this (big) process would
# report our peak as its own: a small Python in between starts it.
_PROBE = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def _tree_rss_kb(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as children:
                    todo += [int(c) for c in children.read().split()]
        except (OSError, ValueError):
            continue
    return total


def launch(python: str, script: Path, spec: dict, reader: str, log: Path, case: Case,
           timeout: float = 1800) -> Outcome:
    """Run `python script SPEC` under a small probe: its rows, time, memory, and its keys against the archive."""
    outcome = Outcome(reader)
    work = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    done = work / "done"  # the reader made it after its timed read: memory is sampled until then
    spec = dict(spec, keys=str(work / "keys.json"), done=str(done))
    (work / "spec.json").write_text(json.dumps(spec))
    peak = [0]
    started = time.perf_counter()
    with open(log, "ab") as err:
        err.write(f"\n== {reader} {time.strftime('%H:%M:%S')} ==\n".encode())
        err.flush()
        process = subprocess.Popen([sys.executable, "-c", _PROBE, python, str(script), str(work / "spec.json")],
                                   stdout=subprocess.PIPE, stderr=err, cwd=ROOT,
                                   env=dict(os.environ, PYTHONPATH=str(ROOT), TZ="UTC"))

        def sample() -> None:
            while process.poll() is None and not done.exists():
                peak[0] = max(peak[0], _tree_rss_kb(process.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
            outcome.error = f"timed out after {timeout:.0f} s"
        sampler.join()
    outcome.process_seconds = time.perf_counter() - started
    outcome.tree_mb = peak[0] / 1024
    tail = log.read_text(errors="replace").splitlines()
    lines = [line for line in out.decode(errors="replace").splitlines() if line.startswith("{")]
    if process.returncode or not lines:
        last = [line for line in tail[-200:] if "Error: " in line] or [line for line in tail[-40:] if line.strip()]
        outcome.error = outcome.error or f"exit {process.returncode}: " + (last[-1] if last else "no output")
        shutil.rmtree(work, ignore_errors=True)
        return outcome
    answer = json.loads(lines[-1])
    keys = json.loads((work / "keys.json").read_text()) if (work / "keys.json").exists() else delta_keys(spec["lake"])
    if answer["values"] < 0:
        answer["values"] = sum(len(v) for v in keys.values())
    if answer.get("process"):
        outcome.process_seconds = answer["seconds"]
    outcome.rusage_mb = answer.get("rss_kb", float("nan")) / 1024
    outcome.accuracy = compare(case.expected, keys, case.start, case.end)
    shutil.rmtree(work, ignore_errors=True)
    outcome.values = answer["values"]
    outcome.seconds = answer["seconds"]
    outcome.import_seconds = answer.get("import_seconds", float("nan"))
    outcome.extra = {k: v for k, v in answer.items() if k not in ("values", "seconds", "rss_kb", "process")}
    return outcome


def delta_keys(lake: str) -> dict[str, list[int]]:
    """{tag: [timestamp_ns, ...]} of a recorded_values table."""
    from connector.sink import DeltaSink

    rows = DeltaSink(lake).read("recorded_values", columns=["tag", "timestamp_ns"])
    keys: dict = {}
    for tag, ns in zip(rows.column("tag").to_pylist(), rows.column("timestamp_ns").to_pylist()):
        keys.setdefault(tag, []).append(ns)
    return keys


# -- peers' virtualenvs ---------------------------------------------------------------------------

def peer_python(name: str, log: Path) -> tuple[str | None, str]:
    """The peer's venv Python (made and filled on first use), or None and why not."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    recipe = PEERS[name]
    stamp = venv / ".installed"
    wanted = json.dumps(recipe["install"])
    if stamp.exists() and stamp.read_text() == wanted:
        return str(python), ""
    shutil.rmtree(venv, ignore_errors=True)
    VENVS.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as err:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=err, stderr=err)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        fill = {"pyspark": _our_pyspark_version()}
        done = all(subprocess.run(pip + [a.format(**fill) for a in step], stdout=err, stderr=err).returncode == 0
                   for step in recipe["install"])
        if not done and recipe["fallback"]:
            done = all(subprocess.run(pip + step, stdout=err, stderr=err).returncode == 0
                       for step in recipe["fallback"])
    if not done or subprocess.run([str(python), "-c", recipe["check"]], capture_output=True).returncode:
        return None, f"could not install {name} into {venv} (see {log})"
    stamp.write_text(wanted)
    return str(python), ""


def _our_pyspark_version() -> str:
    try:
        from importlib.metadata import version

        return version("pyspark")
    except Exception:
        return "4.0.1"


# -- the suite ------------------------------------------------------------------------------------

@dataclass
class Case:
    label: str
    scenario: str
    tags: list[tuple[str, str]]
    start: str
    end: str = NOW
    peers: bool = True
    naive: bool = False
    spark: bool = False
    profile: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    expected: dict = field(default_factory=dict)

    @property
    def archive_values(self) -> int:
        return sum(sum(c.values()) for c in self.expected.values())

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.tags]


def _ours(url: str, case: Case, log: Path, runs: int) -> list[Outcome]:
    names = [n for n, _ in case.tags]
    spec = {"url": url + "/piwebapi", "tags": names, "start": case.start, "end": case.end}
    results = []
    # whole process: the CLI, recorded values only, into a temporary Delta table
    timed = []
    for _ in range(runs):
        lake = Path(tempfile.mkdtemp(prefix="bench-peer-lake-"))
        config = lake / "config.yaml"
        config.write_text(json.dumps({
            "source": {"url": url + "/piwebapi", "concurrency": 4}, "destination": {"uri": str(lake / "lake")},
            "tags": [{"names": names}], "recorded": {"start": case.start, "end": case.end},
            "af": {"enabled": False}, "event_frames": {"enabled": False}}))
        script = lake / "cli.py"
        script.write_text(_CLI_SCRIPT)
        outcome = launch(sys.executable, script, {"config": str(config), "lake": str(lake / "lake")},
                         "ours: pi-connector run (process)", log, case)
        shutil.rmtree(lake, ignore_errors=True)
        timed.append(outcome)
    results.append(_median(timed))
    timed = []
    for _ in range(runs):
        lake = tempfile.mkdtemp(prefix="bench-peer-lake-")
        outcome = launch(sys.executable, HERE / "ours_read.py", dict(spec, lake=lake), "ours: library call",
                         log, case)
        shutil.rmtree(lake, ignore_errors=True)
        timed.append(outcome)
    results.append(_median(timed))
    return results


# `pi-connector run` as a user types it, timed from its start to its exit; the bench reads the table's
# keys afterwards, so that the CLI's memory and time are its own.
_CLI_SCRIPT = """
import json, resource, subprocess, sys, time
spec = json.load(open(sys.argv[1]))
started = time.perf_counter()
code = subprocess.run([sys.executable, "-m", "connector.cli", "run", spec["config"], "--no-progress"],
                      stdout=subprocess.DEVNULL).returncode
seconds = time.perf_counter() - started
open(spec["done"], "w").close()
if code:
    sys.exit(code)
print(json.dumps({"values": -1, "seconds": seconds, "process": True,
                  "rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _median(outcomes: list[Outcome]) -> Outcome:
    good = [o for o in outcomes if not o.error]
    if not good:
        return outcomes[-1]
    good.sort(key=lambda o: o.seconds)
    chosen = good[len(good) // 2]
    chosen.extra["runs"] = [round(o.seconds, 3) for o in good]
    return chosen


def _peer(name: str, url: str, case: Case, log: Path) -> Outcome:
    python, why = peer_python(name, log)
    if python is None:
        return Outcome(name, error=why)
    names = [n for n, _ in case.tags]
    if name == "tagreader":
        spec = {"url": url + "/piwebapi", "tags": names, "start": case.start, "end": case.end}
    else:
        floats = [n for n, kind in case.tags if kind.startswith("Float")]
        ints = [n for n, kind in case.tags if kind.startswith("Int")]
        spec = {"url": url, "groups": [g for g in (floats, ints) if g], "start": case.start, "end": case.end,
                "master": "local[2]"}
    return launch(python, HERE / PEERS[name]["script"], spec, name, log, case)


def _spark(url: str, case: Case, log: Path) -> list[Outcome]:
    if importlib.util.find_spec("connector.spark") is None:
        print("bench.peers: ours on Spark local[1]/[2]/[4] skipped: connector.spark is not importable "
              "(the Spark data source is not on this branch yet)", file=sys.stderr)
        return []
    names = [n for n, _ in case.tags]
    outcomes = []
    for cores in (1, 2, 4):
        spec = {"url": url + "/piwebapi", "tags": names, "start": case.start, "end": case.end,
                "master": f"local[{cores}]"}
        outcome = launch(sys.executable, HERE / "ours_read.py", spec, f"ours: Spark local[{cores}]", log, case)
        outcomes.append(outcome)
    return outcomes


def run(options: Options) -> list[Figure]:
    from simulator.testing import SimulatorProcess

    OUT_DIR.mkdir(exist_ok=True)
    log = OUT_DIR / "peers.log"
    log.write_text("")
    runs = 1 if options.quick else 3
    load_before = os.getloadavg()
    default = analog_tags("default")
    cases = [Case("96 tags x 24 h", "default", default[:96], "2026-11-24T00:00:00Z", spark=True, profile=True),
             Case("48 tags x 6 h", "default", default[:48], "2026-11-24T18:00:00Z", profile=True)]
    big = Case("1,000 tags x 1 day", str(CONNECTOR_30K), [], "2026-11-24T00:00:00Z", peers=not options.quick,
               naive=True)
    breakdowns: dict[str, tuple] = {}
    with SimulatorProcess("default", workers=2, env={"PISIM_NOW": NOW}, startup_timeout=120) as sim:
        for case in cases:
            _run_case(sim.url, case, log, runs)
            if case.profile:
                breakdowns[case.label] = _profile(sim.url, case)
    from .connector import _names

    wanted = set(_names(1000))
    big.tags = [(n, kind) for n, kind in analog_tags(str(CONNECTOR_30K)) if n in wanted]
    with SimulatorProcess(str(CONNECTOR_30K), workers=2, env={"PISIM_NOW": NOW}, startup_timeout=180) as sim:
        _run_case(sim.url, big, log, 1)
    cases.append(big)
    load_after = os.getloadavg()
    imports = _import_time()
    print(report(cases, breakdowns, imports, load_before, load_after))
    return figures(cases, breakdowns, imports)


def _run_case(url: str, case: Case, log: Path, runs: int) -> None:
    names = case.names
    case.expected, _ = truth(case.scenario, names, case.start, case.end)
    outcomes = _ours(url, case, log, runs)
    if case.spark:
        outcomes += _spark(url, case, log)
    if case.peers:
        outcomes += [_peer("tagreader", url, case, log), _peer("pyspark-pi", url, case, log)]
    if case.naive:
        from .connector import naive

        try:
            rows, seconds = naive(url, names, case.start)
            outcomes.append(Outcome("naive loop (bench.connector)", values=rows, seconds=seconds,
                                    extra={"note": "in the bench process: one GET per tag, sequential"}))
        except Exception as exc:  # a broken baseline must not hide the other figures
            outcomes.append(Outcome("naive loop (bench.connector)", error=f"{type(exc).__name__}: {exc}"))
    case.outcomes = outcomes


def _profile(url: str, case: Case) -> list[dict]:
    """bench.profile in a fresh process: the extraction cold (first use of everything), then warm."""
    done = subprocess.run([sys.executable, "-m", "bench.profile", url + "/piwebapi", case.start, case.end,
                           *case.names], capture_output=True, text=True, cwd=ROOT, timeout=1800)
    runs = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or len(runs) < 2:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"bench.peers: breakdown of {case.label} failed: {last}", file=sys.stderr)
    return runs


def _import_time() -> dict:
    """Seconds to start Python and import connector.cli, bare Python's start, and the costliest top-level
    imports by `python -X importtime` (cumulative seconds)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import connector.cli"], capture_output=True,
                          text=True, cwd=ROOT)
    packages: dict[str, int] = {}  # top-level package -> cumulative µs of its first (outermost) import
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split(":", 1)[1].split("|")
        root = name.strip().split(".")[0]
        if root != "connector":
            packages[root] = max(packages.get(root, 0), int(cumulative))
    top = sorted(((us, name, 0) for name, us in packages.items()), reverse=True)[:8]

    def timed(code: str) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
            best = min(best, time.perf_counter() - started)
        return best

    return {"process": timed("import connector.cli"), "bare": timed("pass"),
            "top": [(name, cumulative / 1e6) for cumulative, name, _ in top]}


# -- what is printed ------------------------------------------------------------------------------

def _f(value: float, digits: int = 2) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


def _find(case: Case, prefix: str) -> Outcome | None:
    return next((o for o in case.outcomes if o.reader.startswith(prefix) and not o.error), None)


def ratios(case: Case) -> list[tuple[str, float]]:
    """(what, ratio) of ours against each peer: the reads alone, and the whole processes."""
    found = []
    library, process = _find(case, "ours: library"), _find(case, "ours: pi-connector")
    for peer in ("tagreader", "pyspark-pi", "naive"):
        other = _find(case, peer)
        if other is None:
            continue
        if library:
            found.append((f"ours library / {peer} (reads)", library.rate / other.rate))
        if process and other.process_seconds == other.process_seconds and peer != "naive":
            found.append((f"ours process / {peer} (processes)", process.process_rate / other.process_rate))
    return found


def report(cases: list[Case], breakdowns: dict, imports: dict, load_before, load_after) -> str:
    out = [f"bench.peers: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
           f"Python {platform.python_version()}, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after",
           "simulator: gunicorn, 2 workers, clock pinned at " + NOW + "; every reader in turn, in a fresh process", ""]
    head = ("reader", "values", "read s", "values/s", "process s", "values/s (proc)", "peak MB tree", "peak MB proc",
            "lost", "dup", "foreign", "at end")
    for case in cases:
        out.append(f"{case.label} ({case.archive_values:,} archive events in [start, end), {case.start} .. {case.end})")
        rows = [head]
        for o in case.outcomes:
            if o.error:
                rows.append((o.reader, "FAILED", o.error[:90]) + ("",) * 9)
                continue
            a = o.accuracy
            rows.append((o.reader, f"{o.values:,}", _f(o.seconds), _f(o.rate, 0), _f(o.process_seconds),
                         _f(o.process_rate, 0),
                         _f(o.tree_mb, 0), _f(o.rusage_mb, 0), *(("-",) * 4 if a is None else
                         (f"{a.lost:,}", f"{a.duplicated:,}", f"{a.foreign:,}", f"{a.at_end:,}"))))
        if case.spark and not any(o.reader.startswith("ours: Spark") for o in case.outcomes):
            rows.append(("ours: Spark local[1]/[2]/[4]", "SKIPPED", "connector.spark not importable") + ("",) * 9)
        widths = [max(len(r[i]) for r in rows if r[1] not in ("FAILED", "SKIPPED")) for i in range(len(head))]
        for n, row in enumerate(rows):
            if row[1] in ("FAILED", "SKIPPED"):
                out.append(f"  {row[0].ljust(widths[0])}  {row[1]}: {row[2]}")
                continue
            cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
            out.append("  " + "  ".join(cells))
            if n == 0:
                out.append("  " + "  ".join("-" * w for w in widths))
        for what, ratio in ratios(case):
            goal = GOAL_PEER if "naive" not in what else 20.0
            out.append(f"  {what}: {ratio:.2f}x (goal >= {goal:g}x){'' if ratio >= goal else '  BELOW GOAL'}")
        spark = {o.reader: o for o in case.outcomes if o.reader.startswith("ours: Spark") and not o.error}
        if "ours: Spark local[1]" in spark and "ours: Spark local[4]" in spark:
            eff = spark["ours: Spark local[4]"].rate / (4 * spark["ours: Spark local[1]"].rate)
            out.append(f"  Spark scaling efficiency local[1] -> local[4]: {eff:.2f} (goal >= {GOAL_SCALING})")
        out.append("")
    for label, runs in breakdowns.items():
        library = next((_find(c, "ours: library") for c in cases if c.label == label), None)
        out += breakdown_text(label, runs, library)
    out.append(f"start-up: python -c 'import connector.cli' {imports['process']:.2f} s "
               f"(bare python {imports['bare']:.2f} s);"
               " costliest imports (cumulative): " + ", ".join(f"{n} {s:.2f} s" for n, s in imports["top"][:6]))
    out.append("")
    out += BOUNDS
    return "\n".join(out)


def breakdown_text(label: str, runs: list[dict], library: Outcome | None) -> list[str]:
    if not runs:
        return [f"where the connector's time goes, {label}: breakdown failed (see stderr)", ""]
    out = [f"where the connector's time goes, {label}: the library call in a fresh process, cold (first use of",
           "every library) then warm (the same again); thread-seconds per stage, each without the stages it calls"]
    head = "  " + "stage".ljust(13) + "".join(f"{r['run'] + ' s':>10}{'%':>7}" for r in runs)
    out += [head, "  " + "-" * (len(head) - 2)]
    totals = [sum(r["stages"].values()) or 1.0 for r in runs]
    for stage in STAGE_ORDER:
        if any(stage in r["stages"] for r in runs):
            out.append("  " + stage.ljust(13) + "".join(
                f"{r['stages'].get(stage, 0.0):10.3f}{100 * r['stages'].get(stage, 0.0) / t:6.1f}%"
                for r, t in zip(runs, totals)))
    out.append("  " + "wall".ljust(13) + "".join(f"{r['wall']:10.3f}{'':7}" for r in runs)
               + "   (recorded job alone: " + ", ".join(f"{r['job_wall']:.3f} s" for r in runs) + ")")
    warm = runs[-1]
    floor = warm["floor_values"] / warm["floor_seconds"] if warm["floor_seconds"] else float("nan")
    out.append(f"  orjson decode floor: {warm['floor_values']:,} values in {warm['floor_seconds']:.3f} s = "
               f"{floor:,.0f} values/s on one core")
    warm_rate = warm["rows"] / warm["wall"]
    out.append(f"  connector end to end / floor, warm in-process: {warm_rate:,.0f} / {floor:,.0f} = "
               f"{warm_rate / floor:.2f} (goal >= {GOAL_FLOOR})")
    if library:
        out.append(f"  connector end to end / floor, fresh process (library call above): {library.rate:,.0f} / "
                   f"{floor:,.0f} = {library.rate / floor:.2f}")
    return out + [""]


STAGE_ORDER = ("discovery", "points", "planning", "http", "json decode", "paging", "arrow build", "window split",
               "reconcile", "delta commit", "checkpoint")

BOUNDS = [
    "what bounds these figures:",
    "  - one machine, 2 shared cores: the simulator's 2 gunicorn workers, the reader, Delta writes and other work",
    "    on the machine take turns; a reader that is faster than the simulator can serve shows the simulator's",
    "    speed (see the http share of the breakdown). Wall times move by +-30 % between runs.",
    "  - read s: the reader's own read (ours: the extraction into Delta, with its commits and checkpoints;",
    "    tagreader: DataFrames in memory; pyspark-pi: a persisted DataFrame counted). process s: from start to",
    "    exit of a fresh process, interpreter start and imports included (Spark: the JVM too).",
    "  - ours (library) runs in the project's venv, which has pandas (for the notebook read): pyarrow imports",
    "    it on the first array built from Python objects, 0.3-0.4 s of the small case's read. `pi-connector",
    "    run` keeps pandas out of its process, and a `[connector]` install has none.",
    "  - tagreader reads one tag at a time, sequentially, and searches the tag's WebId before every page;",
    "    it keeps one row per timestamp (duplicated index dropped), which would lose events sharing a timestamp",
    "    (these windows have none). Its end is inclusive: the rows `at end` are the next window's.",
    "  - pyspark-pi asks each tag's 24 h count, sleeps its rate-limit second, then reads every tag in one",
    "    /batch call (one Spark partition, so extra cores do not help), and waits for its rate-limit slot.",
    "    It sizes each tag's range as int(window / estimated spacing) x spacing, which stops short of `end`",
    "    when the window is not a whole number of spacings: the events of that tail are lost (its `lost`).",
    "  - peak MB tree: RSS of the whole process tree, sampled every 50 ms until the read is done (Spark's JVM",
    "    included); peak MB proc: getrusage of the reader's own process at the end of its read.",
    "  - the 1,000-tag case is served by bench/scenarios/connector-30k.yaml (one value a minute); the naive loop",
    "    (bench.connector) runs in the bench process and its rows are not checked against the archive.",
    "  - the orjson floor decodes the same value pages on one core with nothing else: Python objects only,",
    "    no Arrow, no Delta. The connector decodes with msgspec into structs, which can beat it.",
]


def figures(cases: list[Case], breakdowns: dict, imports: dict) -> list[Figure]:
    result = []
    for case in cases:
        for o in case.outcomes:
            if o.error:
                result.append(Figure(f"{case.label}: {o.reader}", float("nan"), "values/s", note=f"FAILED: {o.error}"))
                continue
            accuracy = o.accuracy.text() if o.accuracy else "not checked"
            result.append(Figure(f"{case.label}: {o.reader}", o.rate, "values/s",
                                 note=f"{o.values:,} values in {o.seconds:.2f} s (process {o.process_seconds:.2f} s); "
                                      f"{accuracy}; peak {o.tree_mb:.0f} MB tree, {o.rusage_mb:.0f} MB largest process"
                                      + (f"; runs {o.extra['runs']}" if o.extra.get("runs") else "")))
        for what, ratio in ratios(case):
            goal = 20.0 if "naive" in what else GOAL_PEER
            result.append(Figure(f"{case.label}: {what}", ratio, "x", f">= {goal:g}", ratio=ratio / goal,
                                 ratio_of="ratio/goal"))
    for label, runs in breakdowns.items():
        if not runs:
            continue
        warm = runs[-1]
        floor = warm["floor_values"] / warm["floor_seconds"] if warm["floor_seconds"] else float("nan")
        result.append(Figure(f"{label}: orjson decode floor", floor, "values/s",
                             note=f"{warm['floor_values']:,} values decoded in {warm['floor_seconds']:.3f} s, "
                                  "one core"))
        for r in runs:
            stages = ", ".join(f"{k} {v:.3f}" for k, v in r["stages"].items())
            result.append(Figure(f"{label}: connector {r['run']}, in-process", r["rows"] / r["wall"], "values/s",
                                 note=f"{r['rows']:,} rows in {r['wall']:.3f} s; stages (thread-s): {stages}"))
        rate = warm["rows"] / warm["wall"]
        result.append(Figure(f"{label}: connector end to end (warm) / floor", rate / floor, "x", f">= {GOAL_FLOOR}",
                             ratio=rate / floor / GOAL_FLOOR, ratio_of="ratio/goal"))
    result.append(Figure("python -c 'import connector.cli'", imports["process"], "s",
                         note=f"bare python {imports['bare']:.2f} s; "
                              + ", ".join(f"{n} {s:.2f} s" for n, s in imports["top"])))
    return result


if __name__ == "__main__":
    from . import table

    print(table(run(Options(quick="--quick" in sys.argv)), "bench.peers"))
    os._exit(0)
