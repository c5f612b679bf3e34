"""connector.jobs.assets: the AF hierarchy (elements and their attributes) into `af_elements` and
`af_attributes`, upserted by WebID."""
from __future__ import annotations

import datetime as dt
import time

import pyarrow.compute as pc

from ..context import RunContext
from ..context import TableReport
from ..tables import AFAttributes
from ..tables import AFElements

ELEMENT_FIELDS = "Items.WebId;Items.Id;Items.Name;Items.Description;Items.Path;Items.TemplateName;" \
                 "Items.CategoryNames;Items.HasChildren"
ATTRIBUTE_FIELDS = "Items.WebId;Items.Id;Items.Name;Items.Description;Items.Path;Items.Type;" \
                   "Items.DefaultUnitsNameAbbreviation;Items.DataReferencePlugIn;Items.ConfigString;Items.CategoryNames"
BATCH_SIZE = 100
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def databases(ctx: RunContext, wanted: tuple[str, ...]) -> list[dict]:
    """The AF databases to read: the configured paths, or every database of every asset server."""
    return find_databases(ctx.client, wanted)


def find_databases(client, wanted: tuple[str, ...] = ()) -> list[dict]:
    """The AF databases at these paths, or every database of every asset server."""
    if wanted:
        return [client.get_json("assetdatabases", client._list_params({"path": path})) for path in wanted]
    found: list[dict] = []
    for server in client.get_json("assetservers", client._list_params()).get("Items") or []:
        found.extend(client.get_json(f"assetservers/{server['WebId']}/assetdatabases",
                                     client._list_params()).get("Items") or [])
    return found


def read_af(client, db: dict, web_id_type: str, on_failure=None) -> tuple[list[dict], list[dict]]:
    """One database's element rows and attribute rows (without the audit columns; `removed_at` null).

    `on_failure(element, answer)` is told about an element whose attributes could not be read."""
    element_rows: list[dict] = []
    attribute_rows: list[dict] = []
    elements = list(client.paged(f"assetdatabases/{db['WebId']}/elements",
                                 {"searchFullHierarchy": "true", "selectedFields": ELEMENT_FIELDS}))
    by_path = {e["Path"].lower(): e for e in elements}
    for e in elements:
        parent_path = e["Path"].rsplit("\\", 1)[0]
        parent = by_path.get(parent_path.lower())
        depth = e["Path"][len(db["Path"]):].strip("\\").count("\\")
        element_rows.append({
            "web_id": e["WebId"], "id": e.get("Id"), "database": db.get("Name"), "name": e.get("Name"),
            "description": e.get("Description"), "path": e["Path"],
            "parent_web_id": parent["WebId"] if parent else None, "parent_path": parent["Path"] if parent else None,
            "depth": depth, "template": e.get("TemplateName") or None, "categories": e.get("CategoryNames") or [],
            "has_children": bool(e.get("HasChildren")), "removed_at": None,
        })
    for start in range(0, len(elements), BATCH_SIZE):
        chunk = elements[start:start + BATCH_SIZE]
        answers = client.batch({str(i): {"Method": "GET", "Resource": f"elements/{e['WebId']}/attributes?"
                                         f"selectedFields={ATTRIBUTE_FIELDS}&webIdType={web_id_type}"}
                                for i, e in enumerate(chunk)})
        for key, answer in answers.items():
            element = chunk[int(key)]
            if answer.get("Status", 500) >= 400:
                if on_failure is not None:
                    on_failure(element, answer)
                continue
            for a in (answer.get("Content") or {}).get("Items") or []:
                reference = a.get("DataReferencePlugIn") or None
                config = a.get("ConfigString") or None
                attribute_rows.append({
                    "web_id": a["WebId"], "id": a.get("Id"), "element_web_id": element["WebId"],
                    "element_path": element["Path"], "name": a.get("Name"), "description": a.get("Description"),
                    "path": a.get("Path"), "type": a.get("Type"), "units": a.get("DefaultUnitsNameAbbreviation"),
                    "data_reference": reference, "config_string": config,
                    "point_path": config.split(";", 1)[0] if reference == "PI Point" and config else None,
                    "categories": a.get("CategoryNames") or [], "is_static": reference is None,
                    "removed_at": None,
                })
    return element_rows, attribute_rows


def write_af(ctx: RunContext) -> dict[str, TableReport]:
    started = time.perf_counter()
    sink = ctx.sink
    element_rows: list[dict] = []
    attribute_rows: list[dict] = []
    unread: set[str] = set()  # elements whose attributes could not be read: theirs are not judged gone
    dbs = databases(ctx, ctx.config.af.databases)
    ctx.progress.start("af", len(dbs))

    def failed(element: dict, answer: dict) -> None:
        unread.add(element["WebId"])
        ctx.log("attributes_failed", level="warning", table=AFAttributes.name, web_id=element["WebId"],
                message=f"HTTP {answer.get('Status')}: {answer.get('Content')}")

    for db in dbs:
        elements, attributes = read_af(ctx.client, db, ctx.config.source.web_id_type, failed)
        element_rows.extend(elements)
        attribute_rows.extend(attributes)
        ctx.progress.advance("af", done=1, values=len(elements))
    ctx.progress.finish("af")
    for table in (AFElements, AFAttributes):
        sink.ensure(table)
    under = tuple(db["Path"].lower() + "\\" for db in dbs)  # the databases read whole
    gone_elements = _gone(sink, AFElements, element_rows, lambda row: row["path"].lower().startswith(under))
    elements_read = {row["web_id"] for row in element_rows} - unread
    owners = elements_read | {row["web_id"] for row in gone_elements}
    gone_attributes = _gone(sink, AFAttributes, attribute_rows, lambda row: row["element_web_id"] in owners)
    removed_at = EPOCH + dt.timedelta(microseconds=ctx.ingested_at_us)  # the run's ingested_at, exactly
    reports = {}
    for table, rows, gone in ((AFElements, element_rows, gone_elements),
                              (AFAttributes, attribute_rows, gone_attributes)):
        if gone:
            ctx.log("af_removed", table=table.name, rows=len(gone),
                    message=f"{len(gone)} row(s) no longer in AF, marked removed_at")
        rows = rows + [{**row, "removed_at": removed_at} for row in gone]
        if rows:
            sink.merge(table, ctx.rows_table(table, rows), metadata={"pi-connector.run_id": ctx.run_id})
        reports[table.name] = TableReport(rows=len(rows), seconds=time.perf_counter() - started)
    return reports


def _gone(sink, table, rows: list[dict], in_scope) -> list[dict]:
    """Rows of `table` not yet marked removed, in the part of AF this run read whole (`in_scope`),
    whose WebIDs the new read (`rows`) lacks; without their audit columns."""
    present = {row["web_id"] for row in rows}
    stored = sink.read(table, filter_expr=pc.field("removed_at").is_null()).to_pylist()
    audit = ("ingested_at", "run_id")
    return [{k: v for k, v in row.items() if k not in audit} for row in stored
            if row["web_id"] not in present and in_scope(row)]
