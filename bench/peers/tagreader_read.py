"""bench/peers/tagreader_read.py: read recorded values with tagreader 6 (PI Web API handler), print JSON.

Run in its own virtualenv (`.bench/peers/tagreader`) by bench.peers:

    python tagreader_read.py SPEC.json

SPEC: {"url": ".../piwebapi", "tags": [...], "start": ISO, "end": ISO, "keys": path}. Prints one JSON
line: values, seconds (the reads), import_seconds, pairs and duplicates of (tag, timestamp), and
writes {tag: [timestamp ns, ...]} to `keys` (after the timed part).
"""
import json
import sys
import time

from answer import finish  # this directory is on sys.path (the script's own)

started = time.perf_counter()
import tagreader  # noqa: E402
from tagreader.utils import ReaderType  # noqa: E402

imported = time.perf_counter() - started


def main() -> None:
    spec = json.load(open(sys.argv[1]))
    # A PI Web API server as its docs show: its own cache off, no SSL check, no auth. The datasource
    # is left empty and connect() not called: with a name, tagreader maps it to a WebId by asking its
    # built-in default URL (not ours), and connect() refuses an empty name. verify_connection checks ours.
    client = tagreader.IMSClient(datasource="", imstype="piwebapi", url=spec["url"], tz="UTC",
                                 verify_ssl=False, auth=None, cache=None,
                                 handler_options={"max_rows": spec.get("max_rows", 10000)})
    if not client.handler.verify_connection(spec.get("server", "PISRV01")):
        sys.exit(f"tagreader: no data server {spec.get('server', 'PISRV01')} at {spec['url']}")
    keys, values = {}, 0
    began = time.perf_counter()
    for tag in spec["tags"]:  # RAW reads take one tag at a time (tagreader refuses several)
        frame = client.read(tag, spec["start"], spec["end"], ts=60, read_type=ReaderType.RAW)
        values += len(frame)
        keys[tag] = frame.index.tz_convert("UTC").as_unit("ns").asi8.tolist() if len(frame) else []
    finish(spec, values, time.perf_counter() - began, imported, lambda: keys)


if __name__ == "__main__":
    main()
