"""/piwebapi/streamsets/...: many streams in one call, ad hoc (repeated webId) or an element's or
event frame's attributes; each member equals the single-stream read. `client` checks the contract."""
from __future__ import annotations

import pytest

from simulator.pi import webid

from tests.conftest import contract_app

TAGS = ("TINY.FLOAT32", "TINY.DIGITAL", "TINY.STRING")
READS = {"recorded": "startTime=2026-11-24T10:00:00Z&endTime=2026-11-24T11:00:00Z",
         "interpolated": "startTime=2026-11-24T10:00:00Z&endTime=2026-11-24T11:00:00Z&interval=7m",
         "plot": "startTime=2026-11-24T00:00:00Z&endTime=2026-11-24T12:00:00Z&intervals=5",
         "summary": "startTime=2026-11-24T00:00:00Z&endTime=2026-11-24T12:00:00Z&summaryType=Count"
                    "&summaryType=PercentGood&summaryDuration=4h",
         "value": "time=2026-11-24T10:30:00Z", "end": ""}


@pytest.fixture(scope="module")
def app(tiny_scenario):
    """One app for the module (its tests only read); `client` still checks every response."""
    return contract_app(tiny_scenario)


@pytest.fixture(scope="module")
def tree(sim):
    db = sim.catalog.asset_servers[0].databases[0]
    return {"db": db, **{e.name: e for e in db.elements}, **{f.name: f for f in sim.catalog.event_frames(db).explicit}}


def single(client, web_id: str, read: str) -> dict:
    response = client.get(f"/piwebapi/streams/{web_id}/{read}?{READS[read]}")
    assert response.status_code == 200
    return response.get_json()


def member_values(member: dict, read: str):
    return member["Value"] if read in ("value", "end") else member["Items"]


def single_values(body: dict, read: str):
    return body if read in ("value", "end") else body["Items"]


@pytest.mark.parametrize("read", list(READS))
def test_ad_hoc_members_equal_single_stream_reads(client, sim, ids, read):
    query = "&".join(f"webId={ids[tag]}" for tag in TAGS)
    response = client.get(f"/piwebapi/streamsets/{read}?{query}&{READS[read]}")
    assert response.status_code == 200
    body = response.get_json()
    assert [m["Name"] for m in body["Items"]] == list(TAGS)
    for member, tag in zip(body["Items"], TAGS):
        entry = sim.catalog.data_servers[0].by_name[tag.lower()]
        assert member["WebId"] == ids[tag] and member["Path"] == entry.path
        assert member["Links"]["Source"] == f"http://localhost/piwebapi/points/{ids[tag]}"
        assert member_values(member, read) == single_values(single(client, ids[tag], read), read)
    if read == "recorded":
        assert all(len(m["Items"]) > 3 for m in body["Items"])


def test_an_unreadable_member_gets_its_own_web_exception_in_place(client, sim, ids):
    server = sim.catalog.data_servers[0]
    unknown = webid.point(server.id, 4242, server.name, "GONE.TAG")
    query = f"webId={ids['TINY.FLOAT32']}&webId={unknown}&webId=garbage&webId={ids['TINY.STEP']}"
    for read in ("recorded", "value", "summary"):
        response = client.get(f"/piwebapi/streamsets/{read}?{query}")
        assert response.status_code == 200
        items = response.get_json()["Items"]
        assert [m["WebId"] for m in items] == [ids["TINY.FLOAT32"], unknown, "garbage", ids["TINY.STEP"]]
        assert items[1]["WebException"]["StatusCode"] == 404 and unknown in items[1]["WebException"]["Errors"][0]
        assert items[2]["WebException"]["StatusCode"] == 400 and "WebID" in items[2]["WebException"]["Errors"][0]
        assert "WebException" not in items[0] and "WebException" not in items[3]
        assert items[3]["Name"] == "TINY.STEP"


def test_sort_by_name(client, ids):
    query = "&".join(f"webId={ids[tag]}" for tag in ("TINY.STRING", "TINY.FLOAT32", "TINY.DIGITAL"))

    def names(extra: str) -> list[str]:
        return [m["Name"] for m in client.get(f"/piwebapi/streamsets/end?{query}{extra}").get_json()["Items"]]

    assert names("") == ["TINY.STRING", "TINY.FLOAT32", "TINY.DIGITAL"]
    assert names("&sortField=Name") == ["TINY.DIGITAL", "TINY.FLOAT32", "TINY.STRING"]
    assert names("&sortfield=name&sortOrder=descending") == ["TINY.STRING", "TINY.FLOAT32", "TINY.DIGITAL"]
    assert client.get(f"/piwebapi/streamsets/end?{query}&sortField=WebId").status_code == 400
    assert client.get(f"/piwebapi/streamsets/end?{query}&sortOrder=Up").status_code == 400


@pytest.mark.parametrize("read", list(READS))
def test_an_elements_attributes_as_a_stream_set(client, tree, read):
    tank = tree["Tank1"]
    response = client.get(f"/piwebapi/streamsets/{tank.web_id()}/{read}?{READS[read]}")
    assert response.status_code == 200
    items = response.get_json()["Items"]
    assert [m["Name"] for m in items] == ["Temperature", "Pressure", "State", "Capacity"]
    for member, attribute in zip(items, tank.attributes):
        assert member["WebId"] == attribute.web_id() and member["Path"] == attribute.path
        assert member["Links"]["Source"].endswith(f"/attributes/{attribute.web_id()}")
        assert member_values(member, read) == single_values(single(client, attribute.web_id(), read), read)
    if read == "end":
        assert items[3]["Value"]["Value"] == 100.0 and items[3]["Value"]["Timestamp"] == "1970-01-01T00:00:00Z"
        # OSIsoft's StreamValue has no UnitsAbbreviation: it is on the TimedValue only
        assert items[0]["Value"]["UnitsAbbreviation"] == "degC" and items[3]["Value"]["UnitsAbbreviation"] == "m3"
        assert all("UnitsAbbreviation" not in member for member in items)


def test_element_stream_set_filters(client, tree):
    plant = tree["Plant"]
    names = lambda q: [m["Name"] for m in client.get(  # noqa: E731
        f"/piwebapi/streamsets/{plant.web_id()}/end?{q}").get_json()["Items"]]
    assert names("") == ["Batch", "City"]
    assert names("searchFullHierarchy=true") == ["Batch", "City"] + ["Temperature", "Pressure", "State",
                                                                    "Capacity"] * 2
    assert names("searchFullHierarchy=true&nameFilter=?a*") == ["Batch", "Capacity", "Capacity"]
    assert names("searchFullHierarchy=true&templateName=tank&nameFilter=T*") == ["Temperature", "Temperature"]
    assert names("categoryName=Nothing") == []


def test_event_frame_attributes_default_to_the_frames_time_range(client, tree):
    frame = tree["BATCH-001"]
    items = client.get(f"/piwebapi/streamsets/{frame.web_id()}/recorded").get_json()["Items"]
    assert {m["Name"]: m["Items"][0]["Value"] for m in items} == {"Product": "Alpha", "Operator": "Ann"}
    assert all(m["Items"][0]["Timestamp"] == "2026-11-24T01:00:00Z" for m in items)
    outside = client.get(f"/piwebapi/streamsets/{frame.web_id()}/recorded?startTime=2026-11-24T06:00:00Z"
                         "&endTime=2026-11-24T07:00:00Z").get_json()["Items"]
    assert [m["Items"] for m in outside] == [[], []]


def test_web_id_type_and_selected_fields(client, ids):
    query = f"webId={ids['TINY.FLOAT32']}&webId={ids['TINY.STEP']}&startTime=*-10m"
    full = client.get(f"/piwebapi/streamsets/recorded?{query}").get_json()
    id_only = client.get(f"/piwebapi/streamsets/recorded?{query}&webIdType=IDOnly").get_json()
    assert [m["WebId"][:4] for m in id_only["Items"]] == ["I1DP", "I1DP"]
    assert [webid.decode(m["WebId"]).point_id for m in id_only["Items"]] == [
        webid.decode(m["WebId"]).point_id for m in full["Items"]]
    trimmed = client.get(f"/piwebapi/streamsets/recorded?{query}&selectedFields=items.name;items.items.value"
                         ).get_json()
    assert trimmed == {"Items": [{"Name": m["Name"], "Items": [{"Value": v["Value"]} for v in m["Items"]]}
                                 for m in full["Items"]]}


def test_max_returned_items_per_call_counts_every_stream(client, ids):
    three = "&".join(f"webId={ids[tag]}" for tag in TAGS)
    over = client.get(f"/piwebapi/streamsets/recorded?{three}&maxCount=50001")
    assert over.status_code == 400 and "maxCount" in over.get_json()["Errors"][0]
    assert client.get(f"/piwebapi/streamsets/recorded?{three}&maxCount=50000&startTime=*-1h").status_code == 200
    two = f"webId={ids['TINY.FLOAT32']}&webId={ids['TINY.STEP']}"
    day_of_seconds = "startTime=*-1d&endTime=*&interval=1s"  # 86,401 values per stream
    assert client.get(f"/piwebapi/streamsets/interpolated?{two}&{day_of_seconds}").status_code == 400
    one = client.get(f"/piwebapi/streamsets/interpolated?webId={ids['TINY.STEP']}&{day_of_seconds}")
    assert one.status_code == 200 and len(one.get_json()["Items"][0]["Items"]) == 86401
    plots = client.get(f"/piwebapi/streamsets/plot?{two}&intervals=15001")
    assert plots.status_code == 400 and "intervals" in plots.get_json()["Errors"][0]


def test_stream_set_errors(client, sim, tree):
    assert client.get("/piwebapi/streamsets/recorded").status_code == 400
    response = client.get(f"/piwebapi/streamsets/{tree['db'].web_id()}/recorded")
    assert response.status_code == 400 and "element" in response.get_json()["Errors"][0]
    server = sim.catalog.asset_servers[0]
    gone = webid.element(server.id, "00000000-0000-0000-0000-00000000abcd", "PIAF01\\TinyDB\\Nowhere")
    assert client.get(f"/piwebapi/streamsets/{gone}/value").status_code == 404
    bad_time = client.get(f"/piwebapi/streamsets/{tree['Tank1'].web_id()}/recorded?startTime=soonish")
    assert bad_time.status_code == 400 and "startTime" in bad_time.get_json()["Errors"][0]
    assert client.post(f"/piwebapi/streamsets/{tree['Tank1'].web_id()}/recorded",
                       headers={"X-Requested-With": "x"}).status_code == 405
