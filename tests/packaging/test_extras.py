"""`pip install .[connector]` in a fresh virtualenv: no web-server packages (nor a second JSON library),
and it reads a simulator exactly."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from simulator.testing import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "connector"))
from groundtruth import expected_rows  # noqa: E402
from groundtruth import simulator_for  # noqa: E402

START, END = "2026-11-24T22:00:00Z", "2026-11-24T23:00:00Z"
NOW = "2026-11-25T00:00:00Z"
# web-server packages, and orjson: the connector has one JSON library (msgspec), the simulator its own
NOT_FOR_THE_CONNECTOR = ("flask", "werkzeug", "gunicorn", "faker", "jsonpath_ng", "orjson")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def connector_venv(tmp_path_factory) -> Path:
    """A virtualenv holding only pi-lakehouse[connector], built from this checkout (not editable)."""
    home = tmp_path_factory.mktemp("connector-venv")
    source = tmp_path_factory.mktemp("source") / "pi-lakehouse"  # pip builds in the tree: not in ours
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "lakehouse", "__pycache__", ".pytest_cache", ".bench"))
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{source}[connector]"],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    return home


def run(python: Path, code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300, **kwargs)


def test_the_connector_extra_pulls_no_web_server_packages(connector_venv):
    probe = run(connector_venv / "bin" / "python", f"""
        import importlib.util
        print(sorted(name for name in {NOT_FOR_THE_CONNECTOR!r} if importlib.util.find_spec(name)))
        import connector.cli, connector.sink, connector.runner  # the extractor imports without them
    """, cwd="/")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"


def test_pi_sim_names_the_extra_it_needs(connector_venv):
    done = subprocess.run([str(connector_venv / "bin" / "pi-sim"), "serve"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "pip install 'pi-lakehouse[simulator]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_connector_alone_reads_a_simulator_exactly(connector_venv, tmp_path):
    config = tmp_path / "tiny.yaml"
    with SimulatorProcess("qa-tiny", env={"PISIM_NOW": NOW}) as sim:
        config.write_text(textwrap.dedent(f"""
            source: {{url: {sim.url}/piwebapi}}
            destination: {{uri: ./lake}}
            tags: [{{name_filter: "TINY.*"}}]
            recorded: {{start: "{START}", end: "{END}"}}
            af: {{enabled: false}}
            event_frames: {{enabled: false}}
        """))
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        done = subprocess.run([str(connector_venv / "bin" / "pi-connector"), "run", str(config), "--no-progress"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = run(connector_venv / "bin" / "python", """
        from connector.deltaread import read_table
        table = read_table("lake/recorded_values", columns=["tag", "timestamp_ns", "value"])
        print(table.num_rows, sorted(set(table.column("tag").to_pylist())))
        print(sorted(zip(*[table.column(c).to_pylist() for c in ("tag", "timestamp_ns")]))[:3])
    """, cwd=tmp_path)
    assert rows.returncode == 0, rows.stderr
    truth = expected_rows(simulator_for("qa-tiny"), _ns(START), _ns(END))
    count, tags = rows.stdout.splitlines()[0].split(" ", 1)
    assert int(count) == len(truth)
    assert tags == str(sorted({row[0] for row in truth}))
    assert rows.stdout.splitlines()[1] == str(sorted((row[0], row[1]) for row in truth)[:3])


def _ns(text: str) -> int:
    import datetime as dt

    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 10**9
