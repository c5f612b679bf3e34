"""/piwebapi (home, system), /piwebapi/dataservers... and /piwebapi/points...: real values, WebIDs that
round-trip, webIdType, selectedFields, name filters, paging links, points/multiple and points/search.
`client` checks every response against the contract."""
from __future__ import annotations

from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from simulator.pi import webid

from tests.conftest import contract_app
from tests.conftest import relative

TAGS = ["TINY.FLOAT32", "TINY.FLOAT64", "TINY.INT32", "TINY.DIGITAL", "TINY.STRING", "TINY.STEP",
        "TINY.SUBSECOND", "TINY.GAP"]


@pytest.fixture(scope="module")
def app(tiny_scenario):
    """One app for the module (its tests only read); `client` still checks every response."""
    return contract_app(tiny_scenario)


@pytest.fixture()
def server(client) -> dict:
    [found] = client.get("/piwebapi/dataservers").get_json()["Items"]
    return found


# -- home and system -----------------------------------------------------------------------------------


def test_home_links_lead_to_the_collections(client):
    body = client.get("/piwebapi").get_json()
    assert body == client.get("/piwebapi/").get_json()
    root = "http://localhost/piwebapi"
    assert body["Links"] == {"Self": f"{root}/", "AssetServers": f"{root}/assetservers",
                             "DataServers": f"{root}/dataservers", "System": f"{root}/system"}
    for name in ("AssetServers", "DataServers", "System"):
        assert client.get(relative(body["Links"][name])).status_code == 200


def test_system_resources(client):
    system = client.get("/piwebapi/system").get_json()
    assert system["ProductTitle"] == "PI Web API 2019 SP1 (simulated)" and system["ProductVersion"] == "1.13.0.6518"
    for name in ("UserInfo", "Versions", "Status"):
        assert client.get(relative(system["Links"][name])).status_code == 200
    versions = client.get("/piwebapi/system/versions").get_json()
    assert versions["OSIsoft.REST.Core"] == {"FullVersion": "1.13.0.6518", "MajorMinorRevision": "1.13.0",
                                             "Build": "6518"}
    status = client.get("/piwebapi/system/status").get_json()
    assert status["State"] == "Running" and status["ServerTime"] == "2026-11-25T00:00:00Z"
    assert status["UpTimeInMinutes"] >= 0
    user = client.get("/piwebapi/system/userinfo").get_json()
    assert user["IsAuthenticated"] is False and user["ImpersonationLevel"] == "Anonymous"


def test_health(client):
    assert client.get("/health").get_json() == {"status": "ok", "scenario": "qa-tiny", "now": "2026-11-25T00:00:00Z"}


# -- data servers --------------------------------------------------------------------------------------


def test_data_server_and_its_web_id_round_trip(client, server, tiny_scenario):
    scenario_server = tiny_scenario.data_servers[0]
    assert server["Name"] == "PISRV01" and server["Id"] == scenario_server.id
    assert server["Path"] == "\\\\PIServers[PISRV01]" and server["IsConnected"] is True
    assert server["ServerTime"] == "2026-11-25T00:00:00Z" and server["ServerVersion"] == scenario_server.version
    assert webid.decode(server["WebId"]).guids == (scenario_server.id,)
    assert client.get(f"/piwebapi/dataservers/{server['WebId']}").get_json() == server
    assert client.get(relative(server["Links"]["Self"])).get_json() == server
    assert client.get("/piwebapi/dataservers?name=pisrv01").get_json() == server
    assert client.get("/piwebapi/dataservers?path=\\\\PISRV01").get_json() == server
    assert client.get("/piwebapi/dataservers?path=\\\\PIServers[PISRV01]").get_json() == server
    missing = client.get("/piwebapi/dataservers?name=NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.get_json()["Errors"][0]


@pytest.mark.parametrize(("kind", "prefix"), [("IDOnly", "I1DS"), ("PathOnly", "P1DS"), ("Full", "F1DS"),
                                              ("idonly", "I1DS")])
def test_web_id_types(client, server, kind, prefix):
    other = client.get(f"/piwebapi/dataservers?webIdType={kind}").get_json()["Items"][0]
    assert other["WebId"].startswith(prefix)
    assert other["Links"]["Self"].endswith(other["WebId"])
    same = client.get(f"/piwebapi/dataservers/{other['WebId']}").get_json()
    assert same == server  # any form finds the same server, answered in the default (Full) form


def test_bad_web_id_type_is_400(client):
    response = client.get("/piwebapi/dataservers?webIdType=Short")
    assert response.status_code == 400 and "webIdType" in response.get_json()["Errors"][0]


def test_points_of_a_server(client, server):
    body = client.get(relative(server["Links"]["Points"])).get_json()
    assert [p["Name"] for p in body["Items"]] == TAGS
    assert body["Links"] == {}
    first = body["Items"][0]
    assert first == {
        "WebId": first["WebId"], "Id": 1, "Name": "TINY.FLOAT32", "Path": "\\\\PISRV01\\TINY.FLOAT32",
        "Descriptor": "Float32 daily cycle", "PointClass": "classic", "PointType": "Float32", "DigitalSetName": "",
        "EngineeringUnits": "degC", "Span": 100.0, "Zero": 0.0, "Step": False, "Future": False, "DisplayDigits": -5,
        "Links": first["Links"]}
    digital = body["Items"][3]
    assert (digital["PointType"], digital["DigitalSetName"]) == ("Digital", "TinyState")
    assert body["Items"][5]["Step"] is True
    for point in body["Items"]:
        info = webid.decode(point["WebId"])
        assert (info.marker, info.point_id, info.path) == ("DP", point["Id"], f"PISRV01\\{point['Name']}")
        assert client.get(relative(point["Links"]["Self"])).get_json() == point
        recorded = client.get(relative(point["Links"]["RecordedData"]) + "?startTime=*-10m").get_json()
        assert recorded["Items"], point["Name"]
        assert client.get(relative(point["Links"]["DataServer"])).get_json() == server


@pytest.mark.parametrize(("name_filter", "expected"), [
    ("*", TAGS), ("tiny.float*", ["TINY.FLOAT32", "TINY.FLOAT64"]), ("TINY.?????", ["TINY.INT32"]),
    ("*S*", ["TINY.STRING", "TINY.STEP", "TINY.SUBSECOND"]), ("*.GAP", ["TINY.GAP"]), ("NOPE*", []),
    ("TINY.FLOAT3?", ["TINY.FLOAT32"]),
])
def test_name_filters(client, server, name_filter, expected):
    body = client.get(f"/piwebapi/dataservers/{server['WebId']}/points?nameFilter={name_filter}").get_json()
    assert [p["Name"] for p in body["Items"]] == expected


def test_start_index_and_max_count_page_the_points(client, server):
    url = f"/piwebapi/dataservers/{server['WebId']}/points"
    names, next_url, pages = [], f"{url}?maxCount=3&selectedFields=Items.Name;Links", 0
    while next_url:
        body = client.get(next_url).get_json()
        names += [p["Name"] for p in body["Items"]]
        next_url = relative(body["Links"]["Next"]) if "Next" in body["Links"] else None
        pages += 1
    assert names == TAGS and pages == 3
    middle = client.get(f"{url}?startIndex=3&maxCount=3").get_json()
    assert [p["Name"] for p in middle["Items"]] == TAGS[3:6]
    links = {name: parse_qs(urlsplit(link).query) for name, link in middle["Links"].items()}
    assert {name: (q["startIndex"], q["maxCount"]) for name, q in links.items()} == {
        "First": (["0"], ["3"]), "Previous": (["0"], ["3"]), "Next": (["6"], ["3"]), "Last": (["6"], ["3"])}
    assert client.get(f"{url}?startIndex=100").get_json()["Items"] == []
    for query, name in (("startIndex=-1", "startIndex"), ("maxCount=0", "maxCount"), ("maxCount=150001", "maxCount"),
                        ("startindex=two", "startIndex")):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400 and name in response.get_json()["Errors"][0], query


def test_enumeration_sets(client, server):
    body = client.get(relative(server["Links"]["EnumerationSets"])).get_json()
    [tiny_state] = body["Items"]
    assert tiny_state["Name"] == "TinyState"
    assert tiny_state["Values"] == [{"Name": "Off", "Value": 0}, {"Name": "On", "Value": 1},
                                    {"Name": "Fault", "Value": 2}]


def test_selected_fields_trim_exactly(client, server):
    url = f"/piwebapi/dataservers/{server['WebId']}/points"
    body = client.get(f"{url}?selectedFields=Items.Name;Items.Links.RecordedData").get_json()
    assert body["Items"][0] == {"Name": "TINY.FLOAT32", "Links": {
        "RecordedData": f"http://localhost/piwebapi/streams/{body['Items'][0]['Links']['RecordedData'].split('/')[-2]}"
                        "/recorded"}}
    assert all(set(p) == {"Name", "Links"} and set(p["Links"]) == {"RecordedData"} for p in body["Items"])
    assert client.get(f"/piwebapi/dataservers/{server['WebId']}?selectedFields=name;id").get_json() == {
        "Id": server["Id"], "Name": "PISRV01"}


def test_wrong_kind_of_web_id_is_400(client, server):
    point = client.get(f"/piwebapi/dataservers/{server['WebId']}/points?maxCount=1").get_json()["Items"][0]
    response = client.get(f"/piwebapi/dataservers/{point['WebId']}/points")
    assert response.status_code == 400 and "data server" in response.get_json()["Errors"][0]
    assert client.get(f"/piwebapi/points/{server['WebId']}").status_code == 400


# -- points --------------------------------------------------------------------------------------------


def test_point_by_path_and_web_id_forms(client):
    point = client.get("/piwebapi/points?path=\\\\PISRV01\\tiny.step").get_json()
    assert point["Name"] == "TINY.STEP"
    for kind, prefix in (("IDOnly", "I1DP"), ("PathOnly", "P1DP")):
        other = client.get(f"/piwebapi/points?path=\\\\PISRV01\\TINY.STEP&webIdType={kind}").get_json()
        assert other["WebId"].startswith(prefix)
        assert client.get(f"/piwebapi/points/{other['WebId']}").get_json() == point
    missing = client.get("/piwebapi/points?path=\\\\PISRV01\\NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.get_json()["Errors"][0]
    assert client.get("/piwebapi/points").status_code == 400  # path is required
    unknown = webid.point(webid.decode(point["WebId"]).guids[0], 77, "PISRV01", "NOPE")
    assert client.get(f"/piwebapi/points/{unknown}").status_code == 404


def test_points_multiple(client):
    one = client.get("/piwebapi/points?path=\\\\PISRV01\\TINY.FLOAT32").get_json()
    two = client.get("/piwebapi/points?path=\\\\PISRV01\\TINY.GAP").get_json()
    ok = client.get(f"/piwebapi/points/multiple?webId={one['WebId']}&path=\\\\PISRV01\\TINY.GAP")
    assert ok.status_code == 200
    assert ok.get_json()["Items"] == [
        {"Identifier": one["WebId"], "IdentifierType": "WebId", "Object": one},
        {"Identifier": "\\\\PISRV01\\TINY.GAP", "IdentifierType": "Path", "Object": two}]
    partial = client.get(f"/piwebapi/points/multiple?webId={one['WebId']}&webId=broken&path=\\\\PISRV01\\NOPE")
    assert partial.status_code == 207
    items = partial.get_json()["Items"]
    assert items[0]["Object"] == one
    assert "Object" not in items[1] and "WebID" in items[1]["Exception"]["Errors"][0]
    assert "NOPE" in items[2]["Exception"]["Errors"][0]
    only_failed = client.get(f"/piwebapi/points/multiple?webId={one['WebId']}&webId=broken"
                             "&includeMode=ItemsWithExceptionOnly").get_json()["Items"]
    assert [i["Identifier"] for i in only_failed] == ["broken"]
    only_found = client.get(f"/piwebapi/points/multiple?webId={one['WebId']}&webId=broken"
                            "&includeMode=itemswithoutexceptiononly").get_json()["Items"]
    assert [i["Identifier"] for i in only_found] == [one["WebId"]]
    assert client.get("/piwebapi/points/multiple").status_code == 400
    assert client.get(f"/piwebapi/points/multiple?webId={one['WebId']}&includeMode=Some").status_code == 400


@pytest.mark.parametrize(("query", "expected"), [
    ("tag:=TINY.FLOAT*", ["TINY.FLOAT32", "TINY.FLOAT64"]), ("name:*GAP", ["TINY.GAP"]),
    ("TINY.S*", ["TINY.STRING", "TINY.STEP", "TINY.SUBSECOND"]),
    ("Tag:=TINY.* AND PointType:=Float32", ["TINY.FLOAT32", "TINY.STEP", "TINY.GAP"]),
    ("pointtype:=digital", ["TINY.DIGITAL"]), ('descriptor:="*daily c*"', ["TINY.FLOAT32"]),
    ("descriptor:*daily*", ["TINY.FLOAT32", "TINY.INT32"]),
    ("", TAGS),
])
def test_points_search(client, server, query, expected):
    body = client.get("/piwebapi/points/search", query_string={"dataServerWebId": server["WebId"], "query": query})
    assert body.status_code == 200, body.get_json()
    assert [p["Name"] for p in body.get_json()["Items"]] == expected
    everywhere = client.get("/piwebapi/points/search", query_string={"query": query}).get_json()
    assert [p["Name"] for p in everywhere["Items"]] == expected


def test_points_search_limits_and_errors(client, server):
    paged = client.get("/piwebapi/points/search?query=TINY.*&maxCount=2&startIndex=2").get_json()
    assert [p["Name"] for p in paged["Items"]] == TAGS[2:4] and "Next" in paged["Links"]
    over = client.get("/piwebapi/points/search?query=*&maxCount=1001")
    assert over.status_code == 400 and "maxCount" in over.get_json()["Errors"][0]
    bad = client.get("/piwebapi/points/search?query=Colour:=red")
    assert bad.status_code == 400 and "query" in bad.get_json()["Errors"][0]
    wrong = client.get(f"/piwebapi/points/search?dataServerWebId={paged['Items'][0]['WebId']}")
    assert wrong.status_code == 400


def test_405_with_allow_on_point_routes(client, server):
    for url in ("/piwebapi/dataservers", f"/piwebapi/dataservers/{server['WebId']}/points", "/piwebapi/points/search",
                "/piwebapi/system"):
        response = client.delete(url, headers={"X-Requested-With": "t"})
        assert response.status_code == 405 and response.headers["Allow"], url
