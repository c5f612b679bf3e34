"""Per-stream trouble PI can send inside a 200 answer, made from the simulator's own answers.

A clean run is made first; the answers the simulator gave to its calls of one route are fetched
again, edited (a WebException for one tag, bad values...) and installed as WireMock stubs matching
those exact URLs, so a second run meets the same answers with the edits in them.
"""
from __future__ import annotations

from collections.abc import Callable

from simulator.mock.admin import AdminClient


def stub_answers(sim_url: str, route: str, edit: Callable[[dict], dict]) -> list[str]:
    """Stub every URL the journal holds for `route` (e.g. "/streamsets/recorded") with its answer
    passed through `edit`; the stubbed URLs."""
    admin = AdminClient(sim_url)
    urls = sorted({r["request"]["url"] for r in admin.requests() if route + "?" in r["request"]["url"]})
    assert urls, f"no call of {route} in the journal"
    for url in urls:
        body = admin.session.get(sim_url + url, timeout=30).json()
        admin.stub({"request": {"method": "GET", "url": url}, "response": {"status": 200, "jsonBody": edit(body)}})
    return urls


def stream_failure(web_id: str, status: int, errors: list[str]) -> Callable[[dict], dict]:
    """An edit: the stream of `web_id` replaced by a WebException (the others untouched)."""
    def edit(body: dict) -> dict:
        body["Items"] = [item if item.get("WebId") != web_id else
                         {"WebId": web_id, "Items": [], "WebException": {"StatusCode": status, "Errors": errors}}
                         for item in body["Items"]]
        return body
    return edit


def web_id_of(sink, tag: str) -> str:
    """The WebID the connector used for a tag (from its `points` table)."""
    return next(r["web_id"] for r in sink.read("points").to_pylist() if r["name"] == tag)
