"""connector.updates: PI's Stream Updates calls: register tags for markers, retrieve events since them.

Shared by the follow job (`recorded.mode: follow`) and the Lakeflow delete flow. Both chain
retrievals with each answer's `LatestMarker` while they bring events; a marker PI no longer knows
(its item `Failed`: 404 cache gone, 409 invalid) is reported, and its tag must be registered again.
"""
from __future__ import annotations

import typing as t
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field

from .errors import ConnectorError
from .paging import MAX_URL_WEB_IDS
from .paging import url_group_size

MAX_ROUNDS = 100  # retrievals per call while updates keep bringing events (a moving clock always does)


@dataclass
class Retrieved:
    """What one retrieval round found: events per tag, the next markers, the tags whose marker failed."""

    events: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    markers: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # web_id -> PI's message


def groups(client, values: list[str], sent: list[str], max_url_bytes: int) -> list[list[str]]:
    """`values` cut into groups whose URL, carrying their `sent` texts (WebIDs or markers), stays
    under `max_url_bytes`."""
    size = min(MAX_URL_WEB_IDS, url_group_size(client.base_url, sent, max_url_bytes))
    return [values[i:i + size] for i in range(0, len(values), size)]


def register(client, names: t.Mapping[str, str], max_url_bytes: int) -> dict[str, str]:
    """{web_id: LatestMarker} for these tags ({web_id: name}); ConnectorError naming a tag PI refused."""
    found = {}
    for group in groups(client, list(names), list(names), max_url_bytes):
        body = client.post_json("streamsets/updates", params={"webId": group})  # PI takes the WebIDs in the query
        for web_id, item in zip(group, body.get("Items", [])):
            if item.get("Status") == "Failed":
                raise ConnectorError(f"tag {names[web_id]}: Stream Updates registration failed: "
                                     f"{'; '.join(item.get('Exception', {}).get('Errors', []))}")
            found[web_id] = item["LatestMarker"]
    return found


def retrieve(client, markers: t.Mapping[str, str], max_url_bytes: int) -> Retrieved:
    """Every event since the markers (chained while they bring events), the latest markers of the
    tags that still have one, and the tags whose marker failed."""
    result = Retrieved(markers=dict(markers))
    asking = list(markers)
    for _ in range(MAX_ROUNDS):
        if not asking:
            break
        busy = []
        for group in groups(client, asking, [result.markers[w] for w in asking], max_url_bytes):
            body = client.get_json("streamsets/updates", {"marker": [result.markers[w] for w in group]})
            for web_id, item in zip(group, body.get("Items", [])):
                if item.get("Status") == "Failed":
                    result.failed[web_id] = "; ".join(item.get("Exception", {}).get("Errors", []))
                    continue
                result.markers[web_id] = item["LatestMarker"]
                if item.get("Events"):
                    result.events[web_id] += item["Events"]
                    busy.append(web_id)
        asking = busy
    for web_id in result.failed:
        result.markers.pop(web_id, None)
    return result
