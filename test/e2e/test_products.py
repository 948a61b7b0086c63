"""Data products (issue #8): product files kept in a domain's repository, read and checked by
the server (`/api/v1/products`) and the CLI (`lakemesh product init | validate | list | show |
diff`); contracts checked against the Open Data Contract Standard's JSON Schema with ajv."""
import json
import os
import subprocess

import psycopg2
import pytest
import yaml

from conftest import BIN, KEY_ID, SECRET

HERE = os.path.dirname(os.path.abspath(__file__))
ODCS_SCHEMA = os.path.join(HERE, "..", "..", "..", "shared", "specs", "odcs",
                           "odcs-json-schema-v3.1.0.json")


@pytest.fixture
def sales(server):
    """Domain `sales` with a table `orders`, made with SQL."""
    host, port = server.ports["pg"].rsplit(":", 1)
    conn = psycopg2.connect(host=host, port=port, user=KEY_ID, password=SECRET, dbname="x")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE SCHEMA sales")
    cur.execute("CREATE TABLE sales.orders (order_id BIGINT NOT NULL, email VARCHAR, "
                "amount DECIMAL(10,2), ordered_at TIMESTAMP)")
    cur.execute("INSERT INTO sales.orders VALUES (1, 'a@example.com', 5.00, TIMESTAMP '2026-11-30 10:00:00')")
    conn.close()
    return server


def put_product(server, workdir, branch, name, document, message):
    path = os.path.join(workdir, name + ".yaml")
    with open(path, "w") as f:
        f.write(document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False))
    server.cli("cp", path, "lakemesh://sales/%s/products/%s.yaml" % (branch, name))
    server.cli("commit", "sales", branch, "-m", message)


def odcs_check(contracts):
    r = subprocess.run(["node", os.path.join(HERE, "node", "odcs_validate.mjs"), ODCS_SCHEMA],
                       input=json.dumps(contracts), capture_output=True, text=True, timeout=60,
                       cwd=os.path.join(HERE, "node"))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_init_validate_publish_files_and_read_them(sales, workdir):
    server = sales
    out = os.path.join(workdir, "orders.yaml")
    r = server.cli("product", "init", "sales.orders", "--owner", "sales-team", "-o", out)
    assert "wrote %s" % out in r.stdout
    doc = yaml.safe_load(open(out))
    # The template has the table's real columns and types.
    props = doc["outputPorts"][0]["contract"]["schema"][0]["properties"]
    assert [(p["name"], p["physicalType"], p["logicalType"]) for p in props] == [
        ("order_id", "BIGINT", "integer"), ("email", "VARCHAR", "string"),
        ("amount", "DECIMAL(10,2)", "number"), ("ordered_at", "TIMESTAMP", "timestamp")]
    # As written it breaks a policy: email looks like personal data and is not classified.
    r = server.cli("product", "validate", out, check=False)
    assert r.returncode != 0
    assert "column orders.email looks like personal data (email) and has no classification" in r.stdout
    assert "1 policy violation(s)" in r.stderr
    props[0].update({"required": True, "unique": True, "description": "The order's number."})
    props[1]["classification"] = "pii"
    doc["description"] = "Every order of the web shop."
    doc["status"] = "published"
    doc["version"] = "1.0.0"
    doc["outputPorts"][0]["contract"]["slaProperties"] = [
        {"property": "freshness", "value": 1, "unit": "d", "element": "orders.ordered_at"}]
    with open(out, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    r = server.cli("product", "validate", out)
    assert "product sales.orders, version 1.0.0, 1 output port(s), 4 column(s), 1 quality rule(s)" in r.stdout

    put_product(server, workdir, "main", "orders", doc, "Publish the orders product")
    r = server.cli("product", "list")
    lines = r.stdout.splitlines()
    assert lines[0].split()[:5] == ["PRODUCT", "STATUS", "VERSION", "OWNER", "OUTPUT"]
    assert lines[1].split()[:5] == ["sales.orders", "published", "1.0.0", "sales-team", "orders"]
    r = server.cli("product", "show", "sales.orders")
    assert "sales.orders  published  v1.0.0" in r.stdout
    assert "freshness: ordered_at at most 1d old" in r.stdout
    assert "quality: rowCount > 0 (error)" in r.stdout
    row = [l.split() for l in r.stdout.splitlines() if l.startswith("order_id")][0]
    assert row[:4] == ["order_id", "BIGINT", "required", "unique"]

    # The API: filters, and the product with its contract, which is an ODCS v3 contract.
    listed = server.api("GET", "/api/v1/products?status=published&tag=sales").json()
    assert [p["id"] for p in listed["products"]] == ["sales.orders"]
    assert server.api("GET", "/api/v1/products?status=draft").json()["products"] == []
    full = server.api("GET", "/api/v1/products/sales/orders").json()
    assert full["outputPorts"][0]["columns"][1]["classification"] == "pii"
    assert full["policyViolations"] == []
    checked = odcs_check([p["contract"] for p in full["outputPorts"]])
    assert checked["valid"] == [True], checked["errors"]
    r = server.api("GET", "/api/v1/products/sales/nope")
    assert r.status_code == 404 and "domain sales has no product nope" in r.json()["error"]["message"]


def test_diff_finds_breaking_changes_and_broken_files_are_reported(sales, workdir):
    server = sales
    doc = {
        "name": "orders", "owner": "sales-team", "description": "Orders.", "status": "published",
        "version": "1.0.0",
        "outputPorts": [{"name": "orders", "table": "orders", "contract": {"schema": [{
            "name": "orders", "properties": [
                {"name": "order_id", "physicalType": "BIGINT", "required": True},
                {"name": "email", "physicalType": "VARCHAR", "classification": "pii"},
                {"name": "amount", "physicalType": "DECIMAL(10,2)"}]}]}}]}
    put_product(server, workdir, "main", "orders", doc, "orders 1.0.0")
    server.cli("branch", "create", "sales", "change", "--from", "main")
    props = doc["outputPorts"][0]["contract"]["schema"][0]["properties"]
    props[0]["physicalType"] = "INTEGER"
    del props[1]
    props.append({"name": "channel", "physicalType": "VARCHAR"})
    doc["version"] = "1.1.0"
    put_product(server, workdir, "change", "orders", doc, "orders 1.1.0")
    r = server.cli("product", "diff", "sales.orders", "--to", "change")
    assert "sales.orders: main (v1.0.0) -> change (v1.1.0)" in r.stdout
    assert "BREAKING orders.order_id: type narrowed or changed from BIGINT to INTEGER" in r.stdout
    assert "BREAKING orders.email: column removed (or renamed)" in r.stdout
    assert "orders.channel: column added" in r.stdout
    assert "publishing it needs a new major version (1.1.0 is not above 1.0.0)" in r.stdout
    doc["version"] = "2.0.0"
    put_product(server, workdir, "change", "orders", doc, "orders 2.0.0")
    j = server.api("GET", "/api/v1/products/sales/orders/changes?to=change").json()
    assert j["breaking"] is True and j["needsMajorVersion"] is False

    # A file that does not read is reported by name, and hides nothing else.
    put_product(server, workdir, "main", "broken", "name: broken\nstatus: live\noutputPorts: [{table: t}]\n",
                "a broken product")
    put_product(server, workdir, "main", "misnamed", "name: other\noutputPorts: [{table: t}]\n", "misnamed")
    listed = server.api("GET", "/api/v1/products").json()
    assert [p["id"] for p in listed["products"]] == ["sales.orders"]
    errors = {b["path"]: b["error"] for b in listed["broken"]}
    assert "status 'live' is not one of draft, published, deprecated" in errors["products/broken.yaml"]
    assert "names the product 'other'" in errors["products/misnamed.yaml"]
    r = server.cli("product", "list", check=False)
    assert "warning: sales/products/broken.yaml" in r.stderr
    r = server.cli("product", "show", "sales.broken", check=False)
    assert r.returncode != 0 and "products/broken.yaml: status 'live'" in r.stderr
    # Validating through the API.
    r = server.api("POST", "/api/v1/products/sales/orders/validate", data=yaml.safe_dump(doc))
    assert r.status_code == 200 and r.json()["valid"] is True, r.text
    r = server.api("POST", "/api/v1/products/sales/orders/validate", data="name: [")
    assert r.json()["valid"] is False and r.json()["errors"][0].startswith("products/orders.yaml:1:")


def product_doc(version="1.0.0", status="draft", amount_type="DECIMAL(10,2)", email=True):
    props = [{"name": "order_id", "logicalType": "integer", "physicalType": "BIGINT", "required": True,
              "unique": True, "description": "The order's number."},
             {"name": "amount", "logicalType": "number", "physicalType": amount_type,
              "quality": [{"metric": "nullValues", "mustBeLessOrEqualTo": 50, "unit": "percent"}]},
             {"name": "ordered_at", "logicalType": "timestamp"}]
    if email:
        props.insert(1, {"name": "email", "logicalType": "string", "classification": "pii"})
    return {"name": "orders", "owner": "sales-team", "description": "Every order.", "tags": ["sales"],
            "status": status, "version": version,
            "outputPorts": [{"name": "orders", "table": "orders", "contract": {
                "schema": [{"name": "orders", "properties": props, "quality": [
                    {"metric": "rowCount", "mustBeGreaterThan": 0},
                    {"type": "sql", "name": "no negative amounts",
                     "query": "SELECT count(*) FROM ${table} WHERE amount < 0", "mustBe": 0},
                    {"metric": "rowCount", "mustBeLessThan": 1, "severity": "warning",
                     "name": "a warning only"}]}],
                "slaProperties": [{"property": "freshness", "value": 3650, "unit": "d",
                                   "element": "orders.ordered_at"}]}}]}


def test_publish_checks_the_contract_against_the_tables(sales, workdir):
    """publish: on a branch, the contract against the real table, required/unique in the data,
    every quality rule, freshness, policies and versioning; merged into main only when all
    pass; every run kept as history."""
    server = sales
    server.cli("branch", "create", "sales", "release", "--from", "main")
    put_product(server, workdir, "release", "orders", product_doc(), "orders 1.0.0")
    r = server.cli("product", "publish", "sales.orders", "--branch", "release")
    assert "published sales.orders 1.0.0 (merged into main: " in r.stdout, r.stdout
    lines = [" ".join(l.split()) for l in r.stdout.splitlines()]
    statuses = [l.split()[0] for l in lines[2:] if l and not l.startswith("published")]
    assert "FAIL" not in statuses and statuses.count("WARN") == 1, r.stdout  # the warning-only rule
    assert "PASS quality orders rowCount > 0 measured 1" in lines
    assert "PASS schema orders column amount DECIMAL(10,2)" in lines
    assert "PASS schema orders order_id is unique 0 duplicate(s)" in lines
    assert "WARN quality orders a warning only: rowCount < 1 measured 1" in lines
    assert any(l.startswith("PASS freshness orders ordered_at at most 3650d old newest value ") for l in lines)
    show = server.cli("product", "show", "sales.orders").stdout
    assert "sales.orders  published  v1.0.0" in show  # main has it, published
    assert "Product sales.orders 1.0.0: published" in server.cli("log", "sales", "main").stdout

    # A duplicate order on a branch: the unique column fails, nothing is published.
    server.cli("branch", "create", "sales", "dup", "--from", "main")
    host, port = server.ports["pg"].rsplit(":", 1)
    conn = psycopg2.connect(host=host, port=port, user=KEY_ID, password=SECRET, dbname="x")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute('INSERT INTO sales."orders@dup" VALUES (1, NULL, -3.00, TIMESTAMP \'2026-11-30 11:00:00\')')
    conn.close()
    put_product(server, workdir, "dup", "orders", product_doc("1.0.1", "published", "DECIMAL(12,2)"), "1.0.1")
    r = server.cli("product", "publish", "sales.orders", "--branch", "dup", check=False)
    assert r.returncode != 0 and "not published: a check failed; main is untouched" in r.stdout, r.stdout
    lines = [" ".join(l.split()) for l in r.stdout.splitlines()]
    assert "FAIL schema orders order_id is unique 1 duplicate(s)" in lines, r.stdout
    assert "FAIL schema orders column amount is DECIMAL(10,2); the contract says DECIMAL(12,2)" in lines
    assert "FAIL quality orders no negative amounts = 0 measured 1" in lines
    assert "v1.0.0" in server.cli("product", "show", "sales.orders").stdout  # main as it was

    # Removing a column breaks the published contract: it needs a new major version.
    server.cli("branch", "create", "sales", "v2", "--from", "main")
    put_product(server, workdir, "v2", "orders", product_doc("1.1.0", "published", email=False), "1.1.0")
    r = server.cli("product", "check", "sales.orders", "--ref", "v2", check=False)
    assert r.returncode != 0
    assert "version 1.1.0 breaks the published 1.0.0 (orders.email: column removed (or renamed))" in r.stdout
    put_product(server, workdir, "v2", "orders", product_doc("2.0.0", "published", email=False), "2.0.0")
    r = server.cli("product", "publish", "sales.orders", "--branch", "v2")
    assert "published sales.orders 2.0.0" in r.stdout
    assert "new major version 2.0.0: orders.email: column removed" in r.stdout

    # Deprecation is a commit; the history has every run, newest first.
    r = server.cli("product", "deprecate", "sales.orders")
    assert "sales.orders is deprecated on main" in r.stdout
    assert "sales.orders  deprecated  v2.0.0" in server.cli("product", "show", "sales.orders").stdout
    runs = server.api("GET", "/api/v1/products/sales/orders/runs").json()["runs"]
    assert [(x["action"], x["ref"], x["passed"]) for x in runs] == [
        ("deprecate", "main", True), ("publish", "v2", True), ("check", "v2", False),
        ("publish", "dup", False), ("publish", "release", True)]
    assert runs[1]["mergedCommit"] and runs[3]["error"].startswith("not published")
    r = server.cli("product", "runs", "sales.orders")
    assert r.stdout.splitlines()[1].split()[1:3] == ["deprecate", "main"]
    # A product that is not there, and a branch that is not.
    r = server.cli("product", "publish", "sales.nope", "--branch", "v2", check=False)
    assert r.returncode != 0 and "domain sales has no product nope" in r.stderr
    r = server.cli("product", "publish", "sales.orders", "--branch", "nowhere", check=False)
    assert r.returncode != 0 and "nowhere" in r.stderr


def test_search_finds_products_tables_and_columns(sales, workdir):
    """/api/v1/search: ranked, prefix-matching, filtered; up to date with every commit."""
    server = sales

    def search(**params):
        r = server.api("GET", "/api/v1/search", params=params)
        assert r.status_code == 200, r.text
        return r.json()["results"]

    assert [h["id"] for h in search(q="ord", kind="table")] == ["sales.orders"]
    doc = product_doc()
    doc["description"] = "Every order of the web shop, with its revenue."
    put_product(server, workdir, "main", "orders", doc, "orders product")
    hits = search(q="orders")
    assert hits[0]["kind"] == "product" and hits[0]["id"] == "sales.orders", hits  # products first
    assert {"kind": "table", "id": "sales.orders"} in [{"kind": h["kind"], "id": h["id"]} for h in hits]
    # Descriptions and words in them, by prefix (the table has its product's description).
    assert [(h["kind"], h["id"]) for h in search(q="reven")] == [("product", "sales.orders"),
                                                                  ("table", "sales.orders")]
    # Columns carry their contract's description and classification, and filter by them.
    cols = search(q="email", kind="column")
    assert cols[0]["id"] == "sales.orders.email" and cols[0]["classification"] == "pii"
    assert cols[0]["product"] == "sales.orders" and cols[0]["type"] == "string"
    assert [h["id"] for h in search(classification="pii")] == ["sales.orders", "sales.orders.email"]
    assert [h["id"] for h in search(q="order_id", kind="column")][:1] == ["sales.orders.order_id"]
    # (and a column of the orders table is found by its table's name too)
    assert {"sales.orders.order_id", "sales.orders.ordered_at", "sales.orders.amount"} <= {
        h["id"] for h in search(q="order", kind="column")}
    assert search(q="order", tag="sales", kind="product")[0]["owner"] == "sales-team"
    assert search(q="order", tag="finance") == []
    assert search(q="order", status="published") == []
    assert search(q="order", domain="crm") == []
    # A new domain and a product on it are found at once; what goes is gone at once.
    host, port = server.ports["pg"].rsplit(":", 1)
    conn = psycopg2.connect(host=host, port=port, user=KEY_ID, password=SECRET, dbname="x")
    conn.autocommit = True
    conn.cursor().execute("CREATE SCHEMA finance")
    conn.cursor().execute("CREATE TABLE finance.invoices (invoice_id BIGINT, total DECIMAL(12,2))")
    conn.cursor().execute("CREATE VIEW finance.big_invoices AS SELECT invoice_id FROM finance.invoices "
                          "WHERE total > 100")
    conn.close()
    assert [(h["id"], h["type"]) for h in search(q="invoice", kind="table")] == [
        ("finance.invoices", "table"), ("finance.big_invoices", "view")]
    assert {h["id"] for h in search(q="invoice_id", kind="column", domain="finance")} == {
        "finance.invoices.invoice_id", "finance.big_invoices.invoice_id"}
    server.cli("rm", "lakemesh://sales/main/products/orders.yaml")
    server.cli("commit", "sales", "main", "-m", "no more product")
    assert search(q="reven") == []
    r = server.api("GET", "/api/v1/search", params={"q": "x", "kind": "tables"})
    assert r.status_code == 400 and "kind 'tables' is one of" in r.json()["error"]["message"]
    # Punctuation and quotes are words apart, never a syntax error.
    r = server.api("GET", "/api/v1/search", params={"q": '"or*ders" (AND) NEAR ^'})
    assert r.status_code == 200, r.text


def test_the_organisations_policies(workdir):
    """--product-policies: the server checks products against the organisation's own rules;
    `product validate --policies` does the same offline."""
    from conftest import Server
    policies = os.path.join(workdir, "policies.yaml")
    with open(policies, "w") as f:
        f.write("owner_required: false\ncolumn_descriptions_required: true\n")
    s = Server(os.path.join(workdir, "data"), ["--product-policies", policies]).start()
    try:
        doc = {"name": "orders", "description": "Orders.", "outputPorts": [{"table": "orders", "contract": {
            "schema": [{"name": "orders", "properties": [{"name": "order_id", "description": "Its number."},
                                                         {"name": "amount"}]}]}}]}
        r = s.api("POST", "/api/v1/products/sales/orders/validate", data=yaml.safe_dump(doc)).json()
        assert r["valid"] is False
        assert r["policyViolations"] == ["column orders.amount has no description"]  # no owner is fine
        path = os.path.join(workdir, "orders.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(doc, f)
        r = s.cli("product", "validate", path, "--domain", "sales", "--policies", policies, check=False)
        assert r.returncode != 0 and "policy: column orders.amount has no description" in r.stdout
        r = s.cli("product", "validate", path, "--domain", "sales", check=False)  # lakemesh's defaults
        assert "policy: product sales.orders has no owner" in r.stdout
    finally:
        s.stop()
    # A policies file that does not read stops the server with the reason.
    with open(policies, "w") as f:
        f.write("owner_requried: true\n")
    r = subprocess.run([BIN, "serve", "--data", os.path.join(workdir, "data"), "--http", "127.0.0.1:0",
                        "--s3", "127.0.0.1:0", "--pg", "127.0.0.1:0", "--product-policies", policies],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "unknown policy 'owner_requried'" in r.stderr
