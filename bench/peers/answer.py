"""bench/peers/answer.py: how every reader script ends, whichever virtualenv runs it (stdlib only).

After the timed read: mark it done (the bench samples memory until then), take this process's peak
RSS, collect the (tag, timestamp ns) keys, write them to spec["keys"] and print one JSON line.
"""
import json
import resource


def finish(spec: dict, values: int, seconds: float, imported: float, collect, **extra) -> None:
    open(spec["done"], "w").close()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    keys = collect()
    pairs = sum(len(v) for v in keys.values())
    unique = sum(len(set(v)) for v in keys.values())
    with open(spec["keys"], "w") as out:
        json.dump(keys, out)
    print(json.dumps({"values": values, "rss_kb": rss_kb, "seconds": seconds, "import_seconds": imported,
                      "pairs": pairs, "duplicates": pairs - unique, **extra}))
