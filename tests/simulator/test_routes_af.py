"""AF routes: asset servers, databases, element templates, elements and attributes. Real values from
qa-tiny's tree (Plant > Tank1, Tank2), WebIDs that round-trip, the element search parameters
(searchFullHierarchy, templateName, categoryName, name/description filters, sorting, paging,
associations). `client` checks every response against the contract."""
from __future__ import annotations

import pytest

from simulator.pi import webid

from tests.conftest import contract_app
from tests.conftest import relative


@pytest.fixture(scope="module")
def app(tiny_scenario):
    """One app for the module (its tests only read); `client` still checks every response."""
    return contract_app(tiny_scenario)


def get(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, (url, response.get_json())
    return response.get_json()


@pytest.fixture()
def af(client) -> dict:
    """The asset server, its database and every element, found by following Links from the top."""
    home = get(client, "/piwebapi")
    [server] = get(client, relative(home["Links"]["AssetServers"]))["Items"]
    [database] = get(client, relative(server["Links"]["Databases"]))["Items"]
    elements = get(client, relative(database["Links"]["Elements"]) + "?searchFullHierarchy=true")["Items"]
    return {"server": server, "db": database, **{e["Name"]: e for e in elements}}


def names(body: dict) -> list[str]:
    return [item["Name"] for item in body["Items"]]


def test_asset_server_and_database(client, af, tiny_scenario):
    server, db = af["server"], af["db"]
    assert (server["Name"], server["Path"], server["Id"]) == ("PIAF01", "\\\\PIAF01", tiny_scenario.asset_servers[0].id)
    assert server["ServerTime"] == "2026-11-25T00:00:00Z" and server["IsConnected"] is True
    assert get(client, f"/piwebapi/assetservers/{server['WebId']}") == server
    assert get(client, "/piwebapi/assetservers?name=piaf01") == server
    assert get(client, "/piwebapi/assetservers?path=\\\\PIAF01") == server
    get(client, "/piwebapi/assetservers?name=Elsewhere", 404)
    assert (db["Name"], db["Path"]) == ("TinyDB", "\\\\PIAF01\\TinyDB")
    info = webid.decode(db["WebId"])
    assert info.marker == "RD" and info.guids[0] == server["Id"] and info.guids[1] == db["Id"]
    assert get(client, relative(db["Links"]["Self"])) == db
    assert get(client, "/piwebapi/assetdatabases?path=\\\\piaf01\\tinydb") == db
    assert get(client, relative(db["Links"]["AssetServer"])) == server
    get(client, "/piwebapi/assetdatabases?path=\\\\PIAF01\\Other", 404)
    get(client, "/piwebapi/assetdatabases", 400)


def test_element_templates(client, af):
    [tank] = get(client, relative(af["db"]["Links"]["ElementTemplates"]))["Items"]
    assert (tank["Name"], tank["CategoryNames"], tank["Path"]) == ("Tank", ["Tank"],
                                                                  "\\\\PIAF01\\TinyDB\\ElementTemplates[Tank]")
    assert get(client, f"/piwebapi/elementtemplates/{tank['WebId']}") == tank
    assert get(client, relative(af["Tank1"]["Links"]["Template"])) == tank
    get(client, f"/piwebapi/elementtemplates/{af['Tank1']['WebId']}", 400)


def test_elements_of_the_database(client, af):
    url = f"/piwebapi/assetdatabases/{af['db']['WebId']}/elements"
    assert names(get(client, url)) == ["Plant"]
    assert names(get(client, url + "?searchFullHierarchy=true")) == ["Plant", "Tank1", "Tank2"]
    plant, tank1 = af["Plant"], af["Tank1"]
    assert (plant["HasChildren"], plant["TemplateName"], plant["Description"]) == (True, "", "The whole tiny plant")
    assert (tank1["HasChildren"], tank1["TemplateName"], tank1["CategoryNames"]) == (False, "Tank", ["Tank"])
    assert tank1["Path"] == "\\\\PIAF01\\TinyDB\\Plant\\Tank1"
    assert get(client, relative(tank1["Links"]["Parent"])) == plant
    assert get(client, relative(tank1["Links"]["Database"])) == af["db"]


@pytest.mark.parametrize(("query", "expected"), [
    ("templateName=Tank", ["Tank1", "Tank2"]), ("templatename=TANK", ["Tank1", "Tank2"]),
    ("categoryName=tank", ["Tank1", "Tank2"]), ("nameFilter=*2", ["Tank2"]), ("nameFilter=p*", ["Plant"]),
    ("descriptionFilter=*tiny*", ["Plant"]), ("sortOrder=Descending", ["Tank2", "Tank1", "Plant"]),
    ("sortField=Description&sortOrder=descending", ["Plant", "Tank1", "Tank2"]),
    ("startIndex=1&maxCount=1", ["Tank1"]), ("templateName=Pump", []), ("elementType=Any", ["Plant", "Tank1", "Tank2"]),
])
def test_element_search_parameters(client, af, query, expected):
    body = get(client, f"/piwebapi/assetdatabases/{af['db']['WebId']}/elements?searchFullHierarchy=true&{query}")
    assert names(body) == expected


def test_element_paging_links_and_associations(client, af):
    url = f"/piwebapi/assetdatabases/{af['db']['WebId']}/elements?searchFullHierarchy=true"
    first = get(client, url + "&maxCount=2")
    assert names(first) == ["Plant", "Tank1"] and set(first["Links"]) == {"First", "Next", "Last"}
    assert names(get(client, relative(first["Links"]["Next"]))) == ["Tank2"]
    with_paths = get(client, url + "&associations=Paths")
    assert [e["Paths"] for e in with_paths["Items"]] == [[e["Path"]] for e in with_paths["Items"]]
    assert all("Paths" not in e for e in get(client, url)["Items"])


def test_child_elements_and_element_by_path(client, af):
    plant = af["Plant"]
    assert names(get(client, relative(plant["Links"]["Elements"]))) == ["Tank1", "Tank2"]
    assert names(get(client, f"/piwebapi/elements/{plant['WebId']}/elements?nameFilter=*1")) == ["Tank1"]
    assert get(client, "/piwebapi/elements?path=\\\\PIAF01\\TinyDB\\Plant\\tank2") == af["Tank2"]
    get(client, "/piwebapi/elements?path=\\\\PIAF01\\TinyDB\\Plant\\Tank3", 404)
    get(client, f"/piwebapi/elements/{af['db']['WebId']}", 400)


@pytest.mark.parametrize(("kind", "prefix"), [("IDOnly", "I1Em"), ("PathOnly", "P1Em")])
def test_element_web_id_types_round_trip(client, af, kind, prefix):
    tank = get(client, f"/piwebapi/elements/{af['Tank1']['WebId']}?webIdType={kind}")
    assert tank["WebId"].startswith(prefix)
    assert get(client, f"/piwebapi/elements/{tank['WebId']}") == af["Tank1"]
    attributes = get(client, f"/piwebapi/elements/{tank['WebId']}/attributes?webIdType={kind}")
    for attribute in attributes["Items"]:
        assert attribute["WebId"].startswith(prefix[:2] + "Ab")
        assert get(client, f"/piwebapi/attributes/{attribute['WebId']}")["Path"] == attribute["Path"]


def test_attributes_of_an_element(client, af):
    body = get(client, relative(af["Tank1"]["Links"]["Attributes"]))
    by_name = {a["Name"]: a for a in body["Items"]}
    assert names(body) == ["Capacity", "Pressure", "State", "Temperature"]  # sorted by name, as PI does
    assert by_name["Pressure"]["DataReferencePlugIn"] == "PI Point"
    assert by_name["Pressure"]["ConfigString"] == "\\\\PISRV01\\TINY.FLOAT64"
    assert by_name["Pressure"]["DefaultUnitsNameAbbreviation"] == "kPa"
    assert (by_name["State"]["Type"], by_name["State"]["TypeQualifier"]) == ("EnumerationValue", "TinyState")
    assert by_name["Capacity"]["IsConfigurationItem"] is True and by_name["Capacity"]["DataReferencePlugIn"] == ""
    assert get(client, relative(by_name["Pressure"]["Links"]["Element"])) == af["Tank1"]
    point = get(client, relative(by_name["Pressure"]["Links"]["Point"]))
    assert point["Name"] == "TINY.FLOAT64"
    assert get(client, relative(by_name["Temperature"]["Links"]["Value"]))["UnitsAbbreviation"] == "degC"


def test_attribute_filters_and_data_reference(client, af):
    url = f"/piwebapi/elements/{af['Tank1']['WebId']}/attributes"
    assert names(get(client, url + "?nameFilter=*e")) == ["Pressure", "State", "Temperature"]
    assert names(get(client, url + "?valueType=EnumerationValue")) == ["State"]
    assert names(get(client, url + "?valueType=Double")) == ["Capacity", "Pressure"]
    assert names(get(client, url + "?valueType=single")) == ["Temperature"]
    assert names(get(client, url + "?maxCount=2&startIndex=1")) == ["Pressure", "State"]
    with_dr = {a["Name"]: a for a in get(client, url + "?associations=DataReference")["Items"]}
    reference = with_dr["Pressure"]["DataReference"]
    assert reference["Type"] == "PI Point"
    assert (reference["PIPoint"]["Name"], reference["PIPoint"]["Path"]) == ("TINY.FLOAT64", "\\\\PISRV01\\TINY.FLOAT64")
    assert "DataReference" not in with_dr["Capacity"]
    get(client, url + "?valueType=Quaternion", 400)


def test_attribute_by_path_web_id_and_value(client, af):
    path = "\\\\PIAF01\\TinyDB\\Plant|City"
    city = get(client, f"/piwebapi/attributes?path={path}")
    assert city["Name"] == "City" and city["Path"] == path
    assert get(client, f"/piwebapi/attributes/{city['WebId']}") == city
    value = get(client, f"/piwebapi/attributes/{city['WebId']}/value")
    assert value["Value"] == "Sydney" and value["Good"] is True and value["Timestamp"] == "1970-01-01T00:00:00Z"
    assert get(client, f"/piwebapi/attributes/{city['WebId']}/attributes") == {"Links": {}, "Items": []}
    batch = get(client, "/piwebapi/attributes?path=\\\\PIAF01\\TinyDB\\Plant|Batch")
    snapshot = get(client, f"/piwebapi/attributes/{batch['WebId']}/value")
    assert snapshot == get(client, f"/piwebapi/streams/{batch['WebId']}/end")
    assert snapshot["Value"] in ("Alpha", "Bravo", "Charlie", "Delta")
    get(client, "/piwebapi/attributes?path=\\\\PIAF01\\TinyDB\\Plant|Nope", 404)
    get(client, f"/piwebapi/attributes/{af['Plant']['WebId']}", 400)


def test_overridden_template_attribute_values(client, af):
    tanks = {}
    for name in ("Tank1", "Tank2"):
        attributes = get(client, f"/piwebapi/elements/{af[name]['WebId']}/attributes?nameFilter=Capacity")["Items"]
        tanks[name] = get(client, relative(attributes[0]["Links"]["Value"]))["Value"]
    assert tanks == {"Tank1": 100.0, "Tank2": 250.0}


def test_unknown_af_web_ids_are_404(client, af):
    server_id, ghost_id = af["server"]["Id"], "00000000-0000-0000-0000-000000000042"
    for route, unknown in (("elements", webid.element(server_id, ghost_id, "PIAF01\\TinyDB\\Ghost")),
                           ("assetdatabases", webid.database(server_id, ghost_id, "PIAF01\\Ghost")),
                           ("assetservers", webid.asset_server(ghost_id, "GHOST")),
                           ("elements", webid.element(server_id, ghost_id, "PIAF01\\TinyDB\\Ghost", "PathOnly"))):
        for suffix in ("", "/elements" if route != "assetservers" else "/assetdatabases"):
            response = client.get(f"/piwebapi/{route}/{unknown}{suffix}")
            assert response.status_code == 404, (route, suffix)
            assert unknown in response.get_json()["Errors"][0]


def test_405_on_af_routes(client, af):
    for url in (f"/piwebapi/elements/{af['Plant']['WebId']}", "/piwebapi/assetservers",
                f"/piwebapi/assetdatabases/{af['db']['WebId']}/elements"):
        response = client.put(url, headers={"X-Requested-With": "t"})
        assert response.status_code == 405 and "GET" in response.headers["Allow"]
