"""destination.uri: s3://... against moto's S3 server on a loopback port: a full run and a rerun, exact."""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from connector.config import ConnectorConfig
from connector.runner import extract
from connector.sink import DeltaSink
from simulator.testing import free_port
from tests.connector.groundtruth import expected_rows
from tests.connector.groundtruth import simulator_for
from tests.connector.groundtruth import table_rows

pytestmark = pytest.mark.e2e

START, END = "2026-11-24T09:30:00Z", "2026-11-24T13:00:00Z"
NS = 1_000_000_000


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 in its own process (deltalake's Rust client would block an in-process server's thread)."""
    pytest.importorskip("moto.server", reason="moto is not installed (pip install 'moto[server]')")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=1).close()
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("moto's S3 server did not start")
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(10)


@pytest.fixture()
def bucket(s3_endpoint, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # credentials come from storage_options only
    name = f"lake-{free_port()}"
    boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                 region_name="us-east-1").create_bucket(Bucket=name)
    return name


def options(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true", "AWS_CONDITIONAL_PUT": "etag"}


def test_a_run_and_a_rerun_into_s3_are_exact(sim_url, s3_endpoint, bucket):
    import datetime as dt

    uri = f"s3://{bucket}/bronze"
    config = ConnectorConfig.from_dict({
        "source": {"url": sim_url + "/piwebapi"},
        "destination": {"uri": uri, "storage_options": options(s3_endpoint)},
        "tags": [{"name_filter": "TINY.*"}],
        "recorded": {"start": START, "end": END, "max_count": 500},
        "af": {"enabled": False}, "event_frames": {"enabled": False},
    })
    start_ns, end_ns = (int(dt.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()) * NS for t in (START, END))
    truth = expected_rows(simulator_for("qa-tiny"), start_ns, end_ns)
    assert extract(config).status == "succeeded"
    sink = DeltaSink(uri, options(s3_endpoint))
    assert table_rows(sink) == truth
    version = sink.version("recorded_values")
    again = extract(config)
    assert again.status == "succeeded"
    assert table_rows(sink) == truth  # nothing lost, nothing twice
    assert sink.version("recorded_values") >= version
    assert "storage_options" not in repr(config.destination) and "testing" not in repr(config.destination)
