"""Iceberg table data: files appended with `lakemesh table append` become Parquet data files,
Avro manifests and manifest lists that readers other than lakemesh's read back (hyparquet from
npm for Parquet, Debian's python3-avro for Avro), fetched through the S3 API as an engine would;
server-side scan planning prunes by partition and column bounds, and its answers match the REST
spec's schema (ajv). Merge-on-read deletes committed by another engine (hyparquet-writer,
python3-avro) are applied, and icebird (an Iceberg reader from npm) reads tables as lakemesh does."""
import datetime
import io
import json
import os
import subprocess
import threading

import avro.datafile
import avro.io
import boto3
import pytest
from botocore.config import Config

from conftest import KEY_ID, SECRET
from test_iceberg import SPEC, Iceberg

HERE = os.path.dirname(__file__)

SCHEMA = {"type": "struct", "fields": [
    {"id": 1, "name": "id", "type": "long", "required": True},
    {"id": 2, "name": "ts", "type": "timestamptz", "required": False},
    {"id": 3, "name": "region", "type": "string", "required": False},
    {"id": 4, "name": "amount", "type": "decimal(9,2)", "required": False},
    {"id": 5, "name": "score", "type": "double", "required": False},
    {"id": 6, "name": "ok", "type": "boolean", "required": False},
    {"id": 7, "name": "day", "type": "date", "required": False}]}
SPEC_FIELDS = {"fields": [{"source-id": 2, "name": "ts_day", "transform": "day"},
                          {"source-id": 3, "name": "region", "transform": "identity"}]}

CSV = """id,ts,region,amount,score,ok,day
1,2026-11-01 10:00:00+00,eu,10.50,1.5,true,2026-11-01
2,2026-11-01 23:59:59+00,eu,3.25,2.5,false,2026-11-01
3,2026-11-02 00:00:00+00,us,7.00,,true,2026-11-02
4,2026-11-02 12:30:00+00,,1.00,0.5,,2026-11-02
"""


def s3_client(server):
    return boto3.client("s3", endpoint_url="http://" + server.ports["s3"],
                        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                        region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


def fetch(s3, uri):
    bucket, key = uri[len("s3://"):].split("/", 1)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def read_avro(data):
    r = avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader())
    meta = {k: v.decode() for k, v in r.meta.items()}
    return meta, list(r)


@pytest.fixture
def table(server, workdir):
    ice = Iceberg(server)
    assert ice.call("POST", "/namespaces", {"namespace": ["shop"]}).status_code == 200
    r = ice.call("POST", "/namespaces/shop/tables",
                 {"name": "events", "schema": SCHEMA, "partition-spec": SPEC_FIELDS})
    assert r.status_code == 200, r.text
    path = os.path.join(workdir, "events.csv")
    with open(path, "w") as f:
        f.write(CSV)
    return ice, path


def test_appended_files_read_back_in_independent_readers(server, workdir, table):
    ice, csv = table
    out = server.cli("table", "append", "shop.events", csv).stdout
    assert "appended 4 row(s) in 3 file(s) to shop.events at main" in out, out
    loaded = ice.call("GET", "/namespaces/shop/tables/events").json()
    m = loaded["metadata"]
    snap = m["snapshots"][-1]
    assert snap["summary"]["operation"] == "append"
    assert snap["summary"]["added-records"] == "4"
    assert snap["summary"]["total-data-files"] == "3"
    assert m["refs"]["main"]["snapshot-id"] == snap["snapshot-id"]

    # The manifest list and manifest, through S3, in python3-avro.
    s3 = s3_client(server)
    meta, manifests = read_avro(fetch(s3, snap["manifest-list"]))
    assert meta["snapshot-id"] == str(snap["snapshot-id"])
    assert meta["format-version"] == "2"
    assert len(manifests) == 1
    mf = manifests[0]
    assert mf["added_files_count"] == 3 and mf["added_rows_count"] == 4
    assert mf["sequence_number"] == snap["sequence-number"]
    assert [p["contains_null"] for p in mf["partitions"]] == [False, True]
    assert mf["partitions"][1]["lower_bound"] == b"eu"
    assert mf["partitions"][1]["upper_bound"] == b"us"
    manifest_bytes = fetch(s3, mf["manifest_path"])
    assert len(manifest_bytes) == mf["manifest_length"]
    meta, entries = read_avro(manifest_bytes)
    assert meta["content"] == "data" and meta["format-version"] == "2"
    assert json.loads(meta["schema"])["fields"][0]["name"] == "id"
    assert [f["field-id"] for f in json.loads(meta["partition-spec"])] == [1000, 1001]
    # The Avro schema carries Iceberg's field ids.
    avro_schema = json.loads(meta["avro.schema"])
    assert [f["field-id"] for f in avro_schema["fields"]] == [0, 1, 3, 4, 2]
    parts = {}
    for e in entries:
        assert e["status"] == 1 and e["sequence_number"] is None  # inherited from the list
        df = e["data_file"]
        assert df["content"] == 0 and df["file_format"] == "PARQUET"
        parts[(df["partition"]["ts_day"], df["partition"]["region"])] = df
    # day(ts) is an Avro date (python3-avro decodes the logical type).
    d1, d2 = datetime.date(2026, 11, 1), datetime.date(2026, 11, 2)
    assert sorted(parts, key=str) == sorted([(d1, "eu"), (d2, "us"), (d2, None)], key=str)
    eu = parts[(d1, "eu")]
    assert eu["record_count"] == 2
    counts = {kv["key"]: kv["value"] for kv in eu["value_counts"]}
    assert counts[1] == 2
    lower = {kv["key"]: kv["value"] for kv in eu["lower_bounds"]}
    upper = {kv["key"]: kv["value"] for kv in eu["upper_bounds"]}
    assert int.from_bytes(lower[1], "little") == 1 and int.from_bytes(upper[1], "little") == 2
    assert lower[3] == b"eu"

    # The Parquet files, through S3, in hyparquet; and the plan against the OpenAPI schema.
    plan = ice.call("POST", "/namespaces/shop/tables/events/plan", {})
    assert plan.status_code == 200, plan.text
    plan_file = os.path.join(workdir, "plan.json")
    with open(plan_file, "w") as f:
        json.dump(plan.json(), f)
    local = []
    for i, task in enumerate(plan.json()["file-scan-tasks"]):
        p = os.path.join(workdir, "f%d.parquet" % i)
        data = fetch(s3, task["data-file"]["file-path"])
        assert len(data) == task["data-file"]["file-size-in-bytes"]
        with open(p, "wb") as f:
            f.write(data)
        local.append(p)
    r = subprocess.run(["node", os.path.join(HERE, "node", "table_files.mjs"), SPEC, plan_file]
                       + local, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    files = json.loads(r.stdout)["files"]
    rows = sorted((row for f in files for row in f["rows"]), key=lambda x: x["id"])
    assert [x["id"] for x in rows] == [1, 2, 3, 4]
    assert [x["region"] for x in rows] == ["eu", "eu", "us", None]
    assert rows[2]["score"] is None and rows[3]["ok"] is None
    for f in files:
        assert f["field_ids"] == {"id": 1, "ts": 2, "region": 3, "amount": 4, "score": 5,
                                  "ok": 6, "day": 7}


def test_scan_planning_prunes_by_partition_and_bounds(server, table):
    ice, csv = table
    server.cli("table", "append", "shop.events", csv)
    server.cli("table", "append", "shop.events", csv)  # a second manifest
    plan = lambda f: ice.call("POST", "/namespaces/shop/tables/events/plan", {"filter": f})

    def paths(r):
        assert r.status_code == 200, r.text
        return [t["data-file"]["file-path"] for t in r.json()["file-scan-tasks"]]

    assert len(paths(plan(True))) == 6
    # day(ts) projection: only the files of 2026-11-02.
    late = plan({"type": "gt-eq", "term": "ts", "value": "2026-11-02T00:00:00+00:00"})
    assert len(paths(late)) == 4
    assert all(t["data-file"]["partition"][0] == "2026-11-02"
               for t in late.json()["file-scan-tasks"])
    assert len(paths(plan({"type": "eq", "term": "region", "value": "us"}))) == 2
    assert len(paths(plan({"type": "is-null", "term": "region"}))) == 2
    # Column bounds (id is not a partition column): ids 1-2 live in the eu files.
    newer = {"type": "lt", "left": {"type": "reference", "name": "id"}, "right": 2}
    assert len(paths(plan(newer))) == 2
    assert paths(plan({"type": "eq", "term": "id", "value": 99})) == []
    # Time travel to the first snapshot.
    first = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]["snapshots"][0]
    r = ice.call("POST", "/namespaces/shop/tables/events/plan",
                 {"snapshot-id": first["snapshot-id"]})
    assert len(paths(r)) == 3
    # Errors in the spec's model.
    bad = plan({"type": "eq", "term": "nope", "value": 1})
    assert bad.status_code == 400
    assert "unknown column 'nope'" in bad.json()["error"]["message"]
    assert plan({"type": "eq", "term": "id", "value": "x"}).status_code == 400
    r = ice.call("POST", "/namespaces/shop/tables/events/plan", {"snapshot-id": 1})
    assert r.status_code == 404 and r.json()["error"]["type"] == "NoSuchTableException"
    r = ice.call("POST", "/namespaces/shop/tables/events/plan",
                 {"start-snapshot-id": 1, "end-snapshot-id": 2})
    assert r.status_code == 406
    assert ice.call("POST", "/namespaces/shop/tables/nope/plan", {}).status_code == 404
    # The CLI shows the same plan.
    out = server.cli("table", "scan", "shop.events", "--filter",
                     json.dumps({"type": "eq", "term": "region", "value": "us"})).stdout
    assert "2 data file(s), 2 record(s)" in out, out


def test_appends_on_branches_errors_and_concurrency(server, workdir, table):
    ice, csv = table
    assert server.api("POST", "/api/v1/repositories/shop/branches",
                      json={"name": "dev", "source": "main"}).status_code == 201
    server.cli("table", "append", "shop.events", csv, "--ref", "dev")
    dev = ice.at("dev").call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    main = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    assert dev["current-snapshot-id"] != -1 and main["current-snapshot-id"] == -1
    # Every append is a repository commit naming the table.
    log = server.api("GET", "/api/v1/repositories/shop/refs/dev/commits").json()["results"]
    assert "shop.events" in log[0]["message"], log[0]

    def append(body, fmt="csv", ref="main"):
        return server.api("POST", "/api/v1/repositories/shop/branches/%s/tables/events/append"
                          % ref, params={"format": fmt}, data=body)

    r = append(b"id,colour\n1,red\n")
    assert r.status_code == 400 and "input column 'colour'" in r.json()["error"]["message"]
    r = append(b"region\neu\n")
    assert r.status_code == 400 and "required column 'id'" in r.json()["error"]["message"]
    r = append(b"id\nnot-a-number\n")
    assert r.status_code == 400
    r = append(b"id\n")
    assert r.status_code == 400 and "no rows" in r.json()["error"]["message"]
    assert append(b"id\n1\n", fmt="xlsx").status_code == 400
    assert append(b"\x00\x01garbage", fmt="parquet").status_code == 400
    assert server.api("POST", "/api/v1/repositories/shop/branches/main/tables/nope/append",
                      data=b"id\n1\n").status_code == 404
    assert server.api("POST", "/api/v1/repositories/shop/tags",
                      json={"name": "v1", "ref": "main"}).status_code == 201
    r = append(b"id\n1\n", ref="v1")
    assert r.status_code in (400, 404), r.text
    # None of the failures left a snapshot.
    assert ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"][
        "current-snapshot-id"] == -1
    # JSON input.
    assert append(b'{"id": 100, "region": "eu"}\n{"id": 101}\n', fmt="json").status_code == 200

    # Concurrent appends all land: none is lost to another's commit.
    errors = []

    def writer(i):
        r = append(("id,region\n%d,eu\n%d,us\n" % (1000 + i, 2000 + i)).encode())
        if r.status_code != 200:
            errors.append(r.text)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    m = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    assert m["snapshots"][-1]["summary"]["total-records"] == str(2 + 6 * 2)
    plan = ice.call("POST", "/namespaces/shop/tables/events/plan", {}).json()
    assert sum(t["data-file"]["record-count"] for t in plan["file-scan-tasks"]) == 14


def test_merging_branches_that_both_appended_combines_their_snapshots(server, table):
    ice, csv = table
    server.cli("table", "append", "shop.events", csv)  # the merge base has 3 files
    assert server.api("POST", "/api/v1/repositories/shop/branches",
                      json={"name": "dev", "source": "main"}).status_code == 201
    assert server.api("POST", "/api/v1/repositories/shop/branches",
                      json={"name": "other", "source": "main"}).status_code == 201
    server.cli("table", "append", "shop.events", csv, "--ref", "dev")
    server.cli("table", "append", "shop.events", csv, "--ref", "dev")
    server.cli("table", "append", "shop.events", csv)  # main moves on too
    r = server.api("POST", "/api/v1/repositories/shop/refs/dev/merge/main", json={})
    assert r.status_code == 201, r.text
    assert r.json()["combined"] == ["_catalog/events.metadata.json"]
    m = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    head = m["snapshots"][-1]
    assert head["summary"]["operation"] == "append"
    assert head["summary"]["total-records"] == str(4 * 4)
    assert head["summary"]["added-records"] == str(2 * 4)
    assert head["sequence-number"] == m["last-sequence-number"]
    plan = ice.call("POST", "/namespaces/shop/tables/events/plan", {}).json()
    assert len(plan["file-scan-tasks"]) == 4 * 3
    assert sum(t["data-file"]["record-count"] for t in plan["file-scan-tasks"]) == 16

    # A schema change on one side and appends on the other: a conflict, reported for the table.
    other = ice.at("other")
    cur = other.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    schema = dict(cur["schemas"][0])
    schema["fields"] = schema["fields"] + [
        {"id": 8, "name": "note", "type": "string", "required": False}]
    schema.pop("schema-id", None)
    r = other.call("POST", "/namespaces/shop/tables/events", {
        "requirements": [], "updates": [
            {"action": "add-schema", "schema": schema, "last-column-id": 8},
            {"action": "set-current-schema", "schema-id": -1}]})
    assert r.status_code == 200, r.text
    r = server.api("POST", "/api/v1/repositories/shop/refs/other/merge/main", json={})
    assert r.status_code == 409, r.text
    assert r.json()["conflicts"] == ["_catalog/events.metadata.json"]
    assert "schema changed on the source" in r.json()["conflict_reasons"][
        "_catalog/events.metadata.json"]
    out = server.cli("merge", "shop", "other", "main", check=False)
    assert out.returncode != 0 and "schema changed on the source" in out.stderr, out.stderr


def test_expire_snapshots(server, table):
    ice, csv = table
    for _ in range(4):
        server.cli("table", "append", "shop.events", csv)
    out = server.cli("table", "expire-snapshots", "shop.events").stdout
    assert "no snapshot to expire (4 kept)" in out, out  # all younger than 5 days
    out = server.cli("table", "expire-snapshots", "shop.events", "--older-than", "0s",
                     "--retain-last", "2").stdout
    assert "expired 2 snapshot(s), 2 kept" in out, out
    m = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    assert len(m["snapshots"]) == 2
    # The current snapshot still reads every file; the expiry is a commit of its own.
    plan = ice.call("POST", "/namespaces/shop/tables/events/plan", {}).json()
    assert len(plan["file-scan-tasks"]) == 4 * 3
    log = server.api("GET", "/api/v1/repositories/shop/refs/main/commits").json()["results"]
    assert "remove-snapshots" in log[0]["message"], log[0]
    r = server.cli("table", "expire-snapshots", "shop.events", "--older-than", "soon", check=False)
    assert r.returncode != 0 and "invalid duration" in r.stderr


def test_delete_rows_by_copy_on_write(server, table):
    ice, csv = table
    server.cli("table", "append", "shop.events", csv)
    out = server.cli("table", "delete", "shop.events", "--where", "amount >= 5 AND region = 'eu'")
    # Rows 1 (10.50, eu) and 3 (7.00, us) match amount >= 5; only row 1 is in eu: the eu file
    # (rows 1, 2) is rewritten with row 2.
    assert "deleted 1 row(s) from shop.events at main: 1 file(s) removed, 1 rewritten" in \
        out.stdout, out.stdout
    m = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    head = m["snapshots"][-1]
    assert head["summary"]["operation"] == "overwrite"
    assert head["summary"]["total-records"] == "3"
    plan = ice.call("POST", "/namespaces/shop/tables/events/plan", {}).json()
    assert sum(t["data-file"]["record-count"] for t in plan["file-scan-tasks"]) == 3
    # Pruning still works on the rewritten file's fresh bounds: id 1 is gone.
    r = ice.call("POST", "/namespaces/shop/tables/events/plan",
                 {"filter": {"type": "eq", "term": "id", "value": 1}}).json()
    assert r["file-scan-tasks"] == []
    # A whole file deleted: operation "delete", nothing rewritten.
    out = server.cli("table", "delete", "shop.events", "--where", "region IS NULL").stdout
    assert "1 file(s) removed, 0 rewritten" in out, out
    assert ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]["snapshots"][-1][
        "summary"]["operation"] == "delete"
    assert "nothing deleted" in server.cli("table", "delete", "shop.events", "--where",
                                           "id > 100").stdout
    # Bad conditions, and conditions reaching outside the table, are refused.
    for where in ("nope = 1", "id = ", "(SELECT count(*) FROM read_csv('/etc/passwd')) > 0",
                  "true); COPY (SELECT 1) TO '/tmp/lakemesh-e2e-x.csv'; SELECT (1"):
        r = server.api("POST", "/api/v1/repositories/shop/branches/main/tables/events/delete",
                       json={"where": where})
        assert r.status_code == 400, (where, r.text)
    assert not os.path.exists("/tmp/lakemesh-e2e-x.csv")
    # The history keeps every version: time travel to the first snapshot has all four rows.
    first = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]["snapshots"][0]
    r = ice.call("POST", "/namespaces/shop/tables/events/plan",
                 {"snapshot-id": first["snapshot-id"]}).json()
    assert sum(t["data-file"]["record-count"] for t in r["file-scan-tasks"]) == 4


def test_schema_evolution_by_field_id(server, workdir, table):
    """Columns added, renamed, widened, dropped and reordered through the catalog: appends,
    deletes and reads after each step read every file by field id."""
    ice, csv = table
    server.cli("table", "append", "shop.events", csv)  # written with the first schema

    def evolve(updates):
        m = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
        r = ice.call("POST", "/namespaces/shop/tables/events", {
            "requirements": [{"type": "assert-current-schema-id",
                              "current-schema-id": m["current-schema-id"]}],
            "updates": updates})
        assert r.status_code == 200, r.text
        return r.json()["metadata"]

    def schema_with(m, change):
        cur = next(s for s in m["schemas"] if s["schema-id"] == m["current-schema-id"])
        fields = change([dict(f) for f in cur["fields"]])
        return {"type": "struct", "fields": fields}

    m = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    # Rename `amount` (id 4) to `price` and add `qty int` (widened to long below).
    m = evolve([{"action": "add-schema", "schema": schema_with(m, lambda fs: [
                    dict(f, name="price") if f["id"] == 4 else f for f in fs] + [
                    {"id": 8, "name": "qty", "type": "int", "required": False}]),
                 "last-column-id": 8},
                {"action": "set-current-schema", "schema-id": -1}])
    path = os.path.join(workdir, "v2.csv")
    with open(path, "w") as f:
        f.write("id,ts,region,price,qty\n10,2026-11-03 00:00:00+00,eu,20.00,3\n")
    server.cli("table", "append", "shop.events", path)
    # Widen qty int -> long, then drop `score` (id 5).
    m = evolve([{"action": "add-schema", "schema": schema_with(m, lambda fs: [
                    dict(f, type="long") if f["id"] == 8 else f for f in fs if f["id"] != 5]),
                 "last-column-id": 8},
                {"action": "set-current-schema", "schema-id": -1}])
    with open(path, "w") as f:
        f.write("id,ts,region,price,qty\n11,2026-11-03 00:00:00+00,us,30.00,5000000000\n")
    server.cli("table", "append", "shop.events", path)
    # An input with the dropped column is refused by name.
    r = server.api("POST", "/api/v1/repositories/shop/branches/main/tables/events/append",
                   params={"format": "csv"}, data=b"id,score\n1,2.5\n")
    assert r.status_code == 400 and "'score' is not a column" in r.json()["error"]["message"]
    # Filters bind to the current names; the old files' bounds are found by field id.
    plan = lambda f: ice.call("POST", "/namespaces/shop/tables/events/plan", {"filter": f}).json()
    assert len(plan({"type": "gt", "term": "price", "value": "15.00"})["file-scan-tasks"]) == 2
    # The file with qty 3 is pruned by its bounds; the three older files have no statistics for
    # a column added after them, so they cannot be (inclusive pruning keeps what it cannot rule
    # out).
    assert len(plan(True)["file-scan-tasks"]) == 5
    assert len(plan({"type": "gt", "term": "qty", "value": 4000000000})["file-scan-tasks"]) == 4
    # A delete over renamed and added columns reads every file by field id: old files have no
    # qty (null), so `qty IS NULL AND price < 5` hits rows 2 (3.25) and 4 (1.00) of the first
    # append only.
    out = server.cli("table", "delete", "shop.events", "--where", "qty IS NULL AND price < 5").stdout
    assert "deleted 2 row(s)" in out, out
    m = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    assert m["snapshots"][-1]["summary"]["total-records"] == str(4 + 1 + 1 - 2)
    # Reorder: `qty` and `region` first. Files of every schema read in the new order.
    m = evolve([{"action": "add-schema", "schema": schema_with(m, lambda fs: sorted(
                    fs, key=lambda f: {8: 0, 3: 1}.get(f["id"], 2))), "last-column-id": 8},
                {"action": "set-current-schema", "schema-id": -1}])
    got = server.api("GET", "/api/v1/repositories/shop/refs/main/tables/events/rows",
                     params={"limit": 100}).json()
    assert got["columns"][:3] == ["qty", "region", "id"], got["columns"]
    assert sorted((r[2], r[0], r[1]) for r in got["rows"]) == [
        (1, None, "eu"), (3, None, "us"), (10, 3, "eu"), (11, 5000000000, "us")]


def test_garbage_collection_keeps_what_retained_commits_read(server, workdir, table):
    ice, csv = table
    server.cli("table", "append", "shop.events", csv)
    server.cli("table", "append", "shop.events", csv)
    s3 = s3_client(server)
    before = ice.call("POST", "/namespaces/shop/tables/events/plan", {}).json()
    old_files = {t["data-file"]["file-path"] for t in before["file-scan-tasks"]}
    server.cli("table", "delete", "shop.events", "--where", "region = 'eu'")  # rewrites eu files
    server.cli("table", "expire-snapshots", "shop.events", "--older-than", "0s")
    # An engine's file written but never committed, and one just written (within the grace).
    m = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    bucket, prefix = m["location"][len("s3://"):].split("/", 1)
    s3.put_object(Bucket=bucket, Key=prefix + "/data/orphan.parquet", Body=b"PAR1 orphan")
    # A retention window that keeps the older commits: nothing of the table goes.
    r = server.api("POST", "/api/v1/gc", json={"retention_seconds": 3600, "grace_seconds": 0})
    assert r.status_code == 200, r.text
    for f in old_files:
        assert len(fetch(s3, f)) > 0
    # Keeping only the branch heads: the files only older commits read go, the orphan too;
    # every file the current snapshot reads stays and reads back.
    r = server.api("POST", "/api/v1/gc", json={"retention_seconds": 0, "grace_seconds": 0})
    assert r.status_code == 200, r.text
    assert r.json()["blobs_deleted"] > 0
    now = ice.call("POST", "/namespaces/shop/tables/events/plan", {}).json()
    live = {t["data-file"]["file-path"] for t in now["file-scan-tasks"]}
    assert sum(t["data-file"]["record-count"] for t in now["file-scan-tasks"]) == 4
    for f in live:
        assert fetch(s3, f)[:4] == b"PAR1"
    from botocore.exceptions import ClientError
    for f in old_files - live:
        with pytest.raises(ClientError) as e:
            fetch(s3, f)
        assert e.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key=prefix + "/data/orphan.parquet")
    # The table still works: append and plan again.
    server.cli("table", "append", "shop.events", csv)
    again = ice.call("POST", "/namespaces/shop/tables/events/plan", {}).json()
    assert sum(t["data-file"]["record-count"] for t in again["file-scan-tasks"]) == 8
    # A manifest GC cannot read stops the collection: nothing is deleted.
    head = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]["snapshots"][-1]
    _, mf_list = read_avro(fetch(s3, head["manifest-list"]))
    victim = mf_list[0]["manifest_path"][len("s3://"):]
    repo, rest = victim.split("/", 1)
    path = os.path.join(server.data_dir, "blobs", "tables", repo, rest[len("_tables/"):])
    assert os.path.exists(path)
    os.unlink(path)
    s3.put_object(Bucket=bucket, Key=prefix + "/data/orphan2.parquet", Body=b"PAR1 orphan")
    r = server.api("POST", "/api/v1/gc", json={"retention_seconds": 0, "grace_seconds": 0})
    assert r.status_code >= 400, r.text
    assert "GC reading" in r.json()["error"]["message"]
    assert s3.get_object(Bucket=bucket, Key=prefix + "/data/orphan2.parquet")["Body"].read()


def test_update_and_replace_where_by_copy_on_write(server, workdir, table):
    ice, csv = table
    server.cli("table", "append", "shop.events", csv)
    # Row 4 (region null) moves to apac and its amount doubles: its file is rewritten.
    out = server.cli("table", "update", "shop.events", "--set", "region='apac'",
                     "--set", "amount=amount * 2", "--where", "id = 4").stdout
    assert "updated 1 row(s) of shop.events at main: 1 file(s) rewritten as 1" in out, out
    plan = ice.call("POST", "/namespaces/shop/tables/events/plan",
                    {"filter": {"type": "eq", "term": "region", "value": "apac"}}).json()
    assert [t["data-file"]["record-count"] for t in plan["file-scan-tasks"]] == [1]
    assert ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]["snapshots"][-1][
        "summary"]["total-records"] == "4"
    r = server.api("POST", "/api/v1/repositories/shop/branches/main/tables/events/update",
                   json={"set": {"nope": "1"}, "where": "true"})
    assert r.status_code == 400 and "no such column" in r.json()["error"]["message"]
    r = server.api("POST", "/api/v1/repositories/shop/branches/main/tables/events/update",
                   json={"set": {"id": "NULL"}, "where": "id = 1"})
    assert r.status_code == 400 and "required column 'id'" in r.json()["error"]["message"], r.text
    # Replace the eu rows with a new file's rows in one snapshot (an overwrite).
    path = os.path.join(workdir, "eu.csv")
    with open(path, "w") as f:
        f.write("id,region,amount\n20,eu,5.00\n21,eu,6.00\n22,eu,7.00\n")
    out = server.cli("table", "append", "shop.events", path,
                     "--replace-where", "region = 'eu'").stdout
    assert "replaced 2 row(s) of shop.events at main with 3" in out, out
    m = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]
    head = m["snapshots"][-1]["summary"]
    assert head["operation"] == "overwrite" and head["total-records"] == "5", head
    eu = ice.call("POST", "/namespaces/shop/tables/events/plan",
                  {"filter": {"type": "eq", "term": "region", "value": "eu"}}).json()
    assert sum(t["data-file"]["record-count"] for t in eu["file-scan-tasks"]) == 3


def test_deeply_nested_requests_are_refused_not_fatal(server, table):
    ice, _ = table
    depth = 40000  # a request body of ~1 MB nesting that deep would overflow a recursive walk
    deep_filter = '{"type":"not","child":' * depth + "true" + "}" * depth
    r = requests_post(ice, "/namespaces/shop/tables/events/plan", '{"filter":' + deep_filter + "}")
    assert r.status_code == 400 and "levels deep" in r.json()["error"]["message"], r.text
    t = '"long"'
    for i in range(12000):
        t = '{"type":"struct","fields":[{"id":%d,"name":"a","required":false,"type":%s}]}' % (
            i + 2, t)
    r = requests_post(ice, "/namespaces/shop/tables",
                      '{"name":"deep","schema":{"type":"struct","fields":[{"id":1,"name":"x",'
                      '"required":false,"type":%s}]}}' % t)
    assert r.status_code == 400, r.text
    assert server.api("GET", "/healthz").status_code == 200


def requests_post(ice, path, text):
    import requests
    return requests.post("%s/%s%s" % (ice.base, ice.prefix, path), data=text.encode(),
                         headers={**ice.headers, "Content-Type": "application/json"}, timeout=60)


def test_head_reads_rows_at_refs_and_snapshots(server, table):
    ice, csv = table
    server.cli("table", "append", "shop.events", csv)
    assert server.api("POST", "/api/v1/repositories/shop/tags",
                      json={"name": "before", "ref": "main"}).status_code == 201
    server.cli("table", "delete", "shop.events", "--where", "region = 'us'")
    rows = lambda ref, **q: server.api(
        "GET", "/api/v1/repositories/shop/refs/%s/tables/events/rows" % ref, params=q).json()
    now = rows("main", limit=100)
    assert now["columns"][:3] == ["id", "ts", "region"]
    assert sorted(r[0] for r in now["rows"]) == [1, 2, 4]
    assert {r[3] for r in now["rows"]} == {"10.50", "3.25", "1.00"}  # decimals exact
    assert sorted(r[0] for r in rows("before", limit=100)["rows"]) == [1, 2, 3, 4]
    first = ice.call("GET", "/namespaces/shop/tables/events").json()["metadata"]["snapshots"][0]
    assert len(rows("main", snapshot=first["snapshot-id"])["rows"]) == 4
    limited = rows("main", limit=1)
    assert len(limited["rows"]) == 1 and limited["truncated"]
    assert [r[0] for r in rows("main", where="amount > 5")["rows"]] == [1]
    described = server.cli("table", "describe", "shop.events").stdout
    assert "data      3 row(s) in 2 file(s)" in described, described
    out = server.cli("table", "head", "shop.events", "--where", "id = 4").stdout
    assert "1 row(s)" in out and "NULL" in out, out
    bad = server.api("GET", "/api/v1/repositories/shop/refs/main/tables/events/rows",
                     params={"where": "nope > 1"})
    assert bad.status_code == 400
    assert server.api("GET", "/api/v1/repositories/shop/refs/main/tables/events/rows",
                      params={"limit": "0"}).status_code == 400


def node_engine(*args):
    r = subprocess.run(["node", os.path.join(HERE, "node", "other_engine.mjs")] + list(args),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def icebird_rows(server, loaded):
    """The table's live rows as icebird reads them through the S3 API, sorted by id."""
    m = loaded["metadata"]
    out = node_engine("read", server.ports["s3"], KEY_ID, SECRET, m["location"],
                      loaded["metadata-location"].rsplit("/", 1)[1])
    return sorted(json.loads(out)["rows"], key=lambda r: r["id"])


def put(s3, uri, data):
    bucket, key = uri[len("s3://"):].split("/", 1)
    s3.put_object(Bucket=bucket, Key=key, Body=data)


def write_avro(schema_json, meta, records):
    buf = io.BytesIO()
    w = avro.datafile.DataFileWriter(buf, avro.io.DatumWriter(), avro.schema.parse(schema_json))
    for k, v in meta.items():
        if k != "avro.schema" and not k.startswith("avro."):
            w.set_meta(k, v.encode())
    for rec in records:
        w.append(rec)
    w.flush()
    data = buf.getvalue()
    w.close()
    return data


def test_merge_on_read_deletes_written_by_another_engine(server, workdir, table):
    """Another engine commits a merge-on-read delete (a position delete file and an equality
    delete file, Parquet from hyparquet-writer, a delete manifest and manifest list from
    python3-avro, committed through the REST catalog): lakemesh's reads apply it, its
    copy-on-write delete rewrites over it, and icebird reads every state as lakemesh does."""
    ice, csv = table
    server.cli("table", "append", "shop.events", csv)
    loaded = ice.call("GET", "/namespaces/shop/tables/events").json()
    m = loaded["metadata"]
    location, snap = m["location"], m["snapshots"][-1]
    assert [r["id"] for r in icebird_rows(server, loaded)] == [1, 2, 3, 4]
    s3 = s3_client(server)
    list_meta, manifests = read_avro(fetch(s3, snap["manifest-list"]))
    data_meta, entries = read_avro(fetch(s3, manifests[0]["manifest_path"]))
    eu = next(e["data_file"] for e in entries if e["data_file"]["partition"]["region"] == "eu")
    us = next(e["data_file"] for e in entries if e["data_file"]["partition"]["region"] == "us")

    # Position 1 of the eu file (id 2, the file is written in input order) and rows with id 3.
    pos_local, eq_local = os.path.join(workdir, "pos.parquet"), os.path.join(workdir, "eq.parquet")
    node_engine("write-parquet", pos_local, json.dumps([
        {"name": "file_path", "type": "string", "field_id": 2147483546, "data": [eu["file_path"]]},
        {"name": "pos", "type": "long", "field_id": 2147483545, "data": [1]}]))
    node_engine("write-parquet", eq_local, json.dumps([
        {"name": "id", "type": "long", "field_id": 1, "data": [3]}]))
    files = {}
    for name, local in (("pos", pos_local), ("eq", eq_local)):
        uri = "%s/data/other-engine-%s.parquet" % (location, name)
        with open(local, "rb") as f:
            data = f.read()
        put(s3, uri, data)
        files[name] = (uri, len(data))

    def delete_file(template, content, uri_size, rows, equality_ids):
        df = dict(template)
        df.update(content=content, file_path=uri_size[0], file_size_in_bytes=uri_size[1],
                  record_count=rows, column_sizes=None, value_counts=None,
                  null_value_counts=None, nan_value_counts=None, lower_bounds=None,
                  upper_bounds=None, split_offsets=None, sort_order_id=None)
        if "equality_ids" in df or equality_ids:
            df["equality_ids"] = equality_ids
        return df

    new_snap, seq = 4242424242, m["last-sequence-number"] + 1
    entries_out = [
        {"status": 1, "snapshot_id": new_snap, "sequence_number": None,
         "file_sequence_number": None,
         "data_file": delete_file(eu, 1, files["pos"], 1, None)},
        {"status": 1, "snapshot_id": new_snap, "sequence_number": None,
         "file_sequence_number": None,
         "data_file": delete_file(us, 2, files["eq"], 1, [1])}]
    schema_json = data_meta["avro.schema"]
    if "equality_ids" not in schema_json:
        pytest.fail("lakemesh's manifest schema has no equality_ids field")
    delete_meta = dict(data_meta, content="deletes")
    manifest = write_avro(schema_json, delete_meta, entries_out)
    manifest_uri = "%s/metadata/other-engine-m0.avro" % location
    put(s3, manifest_uri, manifest)
    list_entry = dict(manifests[0])
    list_entry.update(manifest_path=manifest_uri, manifest_length=len(manifest), content=1,
                      sequence_number=seq, min_sequence_number=seq, added_snapshot_id=new_snap,
                      added_files_count=2, existing_files_count=0, deleted_files_count=0,
                      added_rows_count=2, existing_rows_count=0, deleted_rows_count=0)
    list_meta_out = dict(list_meta, **{"snapshot-id": str(new_snap),
                                       "parent-snapshot-id": str(snap["snapshot-id"]),
                                       "sequence-number": str(seq)})
    manifest_list = write_avro(list_meta["avro.schema"], list_meta_out, manifests + [list_entry])
    list_uri = "%s/metadata/snap-%d-other-engine.avro" % (location, new_snap)
    put(s3, list_uri, manifest_list)
    commit = ice.call("POST", "/namespaces/shop/tables/events", {
        "requirements": [{"type": "assert-ref-snapshot-id", "ref": "main",
                          "snapshot-id": snap["snapshot-id"]}],
        "updates": [
            {"action": "add-snapshot", "snapshot": {
                "snapshot-id": new_snap, "parent-snapshot-id": snap["snapshot-id"],
                "sequence-number": seq, "timestamp-ms": snap["timestamp-ms"] + 1,
                "manifest-list": list_uri, "schema-id": m["current-schema-id"],
                "summary": {"operation": "delete", "added-delete-files": "2"}}},
            {"action": "set-snapshot-ref", "ref-name": "main", "type": "branch",
             "snapshot-id": new_snap}]})
    assert commit.status_code == 200, commit.text

    rows = lambda: server.api("GET", "/api/v1/repositories/shop/refs/main/tables/events/rows",
                              params={"limit": 100}).json()["rows"]
    assert sorted(r[0] for r in rows()) == [1, 4]
    mor = ice.call("GET", "/namespaces/shop/tables/events").json()
    assert [r["id"] for r in icebird_rows(server, mor)] == [1, 4]

    # Copy-on-write over it: the eu file is rewritten from its live rows (id 2 stays deleted).
    out = server.cli("table", "update", "shop.events", "--set", "amount=amount + 1",
                     "--where", "region = 'eu'").stdout
    assert "updated 1 row(s)" in out, out
    assert sorted((r[0], r[3]) for r in rows()) == [(1, "11.50"), (4, "1.00")]
    after = ice.call("GET", "/namespaces/shop/tables/events").json()
    read = icebird_rows(server, after)
    assert [(r["id"], r["region"]) for r in read] == [(1, "eu"), (4, None)]
    out = server.cli("table", "delete", "shop.events", "--where", "id = 4").stdout
    assert "deleted 1 row(s)" in out, out
    final = ice.call("GET", "/namespaces/shop/tables/events").json()
    assert [r["id"] for r in icebird_rows(server, final)] == [1]
    assert sorted(r[0] for r in rows()) == [1]
