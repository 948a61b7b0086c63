"""The lakemesh CLI against a real server: the workflow a domain team follows."""
import filecmp
import json
import os
import random


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def test_demo_mesh_is_loaded(demo_server):
    repos = json.loads(demo_server.cli("--json", "repo", "list").stdout)
    # The domain shop is built from the example dbt project in the background once the server is
    # up (test_dbt.py waits for it), so it may or may not be listed yet.
    assert [r["name"] for r in repos if r["name"] != "shop"] == ["customers", "marketing", "sales"]
    log = demo_server.cli("log", "sales", "main", "--oneline").stdout.splitlines()
    assert log[0].endswith("Publish data product sales.orders 1.0.0")
    assert log[1].endswith("Iceberg commit: sales.orders: append")
    assert log[3].endswith("Create table sales.orders")
    assert log[4].endswith("Load October orders")
    # The demo's Iceberg table, on main and (branched after it) on dev and the tag.
    for ref in ("main", "dev", "v1"):
        assert demo_server.cli("table", "list", "sales", "--ref", ref).stdout.split() == \
            ["TABLE", "sales.orders"]
    out = demo_server.cli("table", "describe", "sales.orders").stdout
    assert "month(ordered_at)" in out and "decimal(10, 2)" in out
    assert demo_server.cli("diff", "sales", "main", "dev").stdout.split("\n")[:3] == \
        ["~ _catalog/orders.metadata.json", "~ products/orders.yaml", "+ raw/orders/2026-11.csv"]
    # The tables hold the demo's rows: 140 orders on main (two snapshots), 230 on dev.
    assert "140 row(s)" in demo_server.cli("table", "describe", "sales.orders").stdout
    assert "230 row(s)" in demo_server.cli("table", "describe", "sales.orders", "--ref",
                                           "dev").stdout
    assert "40 row(s)" in demo_server.cli("table", "describe", "customers.customers").stdout
    # A published data product in each domain; on dev, the next version of the orders product
    # fails a quality rule the November load breaks.
    products = json.loads(demo_server.cli("--json", "product", "list").stdout)["products"]
    assert [(p["id"], p["status"]) for p in products] == [("customers.customers", "published"),
                                                          ("marketing.campaigns", "published"),
                                                          ("sales.orders", "published")]
    assert demo_server.cli("product", "check", "sales.orders").returncode == 0
    assert demo_server.cli("product", "check", "marketing.campaigns").returncode == 0
    # Lineage between products: customers.customers -> sales.orders -> marketing.campaigns.
    assert "  used by: sales.orders" in demo_server.cli("product", "show", "customers.customers").stdout
    shown = demo_server.cli("product", "show", "sales.orders").stdout
    assert "  input ports: customers.customers" in shown
    assert "  used by: marketing.campaigns" in shown
    assert "3 row(s)" in demo_server.cli("table", "describe", "marketing.campaigns").stdout
    r = demo_server.cli("product", "check", "sales.orders", "--ref", "dev", check=False)
    assert r.returncode != 0
    assert "FAIL quality orders volume within plan: rowCount <= 200 measured 230" in \
        [" ".join(l.split()) for l in r.stdout.splitlines()]
    csv = demo_server.cli("cat", "lakemesh://customers/main/raw/customers.csv").stdout
    assert csv.startswith("customer_id,name,email,region,signed_up\n")
    assert len(csv.splitlines()) == 41


def test_branch_upload_commit_diff_merge_tag(server, workdir):
    cli = server.cli
    assert "created repository sales" in cli("repo", "create", "sales").stdout
    cli("branch", "create", "sales", "dev", "--from", "main")
    src = os.path.join(workdir, "orders.csv")
    write(src, b"id,amount\n1,10\n2,20\n")
    out = cli("cp", src, "lakemesh://sales/dev/raw/").stdout
    assert "uploaded 1 file(s)" in out
    assert cli("status", "sales", "dev").stdout.strip() == "+ raw/orders.csv"
    assert "[dev " in cli("commit", "sales", "dev", "-m", "load orders",
                          "--meta", "source=erp").stdout
    assert cli("status", "sales", "dev").stdout.strip() == "no changes"
    assert cli("diff", "sales", "main", "dev").stdout.strip() == "+ raw/orders.csv"
    merged = cli("merge", "sales", "dev", "main").stdout
    assert "merged dev into main" in merged
    assert cli("cat", "lakemesh://sales/main/raw/orders.csv").stdout == "id,amount\n1,10\n2,20\n"
    cli("tag", "create", "sales", "v1", "main")
    tags = json.loads(cli("--json", "tag", "list", "sales").stdout)
    assert tags[0]["name"] == "v1"
    head = json.loads(cli("--json", "show", "sales", "main").stdout)
    assert tags[0]["commit"] == head["id"]
    assert len(head["parents"]) == 2
    # The commit before the merge on dev carries its metadata.
    dev = json.loads(cli("--json", "show", "sales", "dev").stdout)
    assert dev["metadata"] == {"source": "erp"}
    # Reading at an older ref.
    assert cli("cat", "lakemesh://sales/main~1/raw/orders.csv", check=False).returncode == 1


def test_recursive_copy_round_trips_every_byte(server, workdir):
    server.cli("repo", "create", "lake")
    rnd = random.Random(7)
    src = os.path.join(workdir, "src")
    sizes = {"a.csv": 0, "b/big.bin": 3 * 1024 * 1024 + 17, "b/c/d.json": 1000,
             "unicode/données été.csv": 50, "deep/x/y/z/w.txt": 5}
    for name, size in sizes.items():
        write(os.path.join(src, name), bytes(rnd.getrandbits(8) for _ in range(size)))
    server.cli("cp", "-r", src, "lakemesh://lake/main/in")
    server.cli("commit", "lake", "main", "-m", "tree")
    listing = json.loads(server.cli("--json", "ls", "-r", "lakemesh://lake/main/in/").stdout)
    assert sorted(o["path"] for o in listing) == sorted("in/" + n for n in sizes)
    dst = os.path.join(workdir, "dst")
    server.cli("cp", "-r", "lakemesh://lake/main/in/", dst)
    for name in sizes:
        assert filecmp.cmp(os.path.join(src, name), os.path.join(dst, name), shallow=False), name
    # Non-recursive ls groups by directory.
    top = json.loads(server.cli("--json", "ls", "lakemesh://lake/main/in/").stdout)
    assert [(o["type"], o["path"]) for o in top] == [
        ("object", "in/a.csv"), ("prefix", "in/b/"), ("prefix", "in/deep/"),
        ("prefix", "in/unicode/")]
    # Single-file download into a directory.
    server.cli("cp", "lakemesh://lake/main/in/b/c/d.json", dst + "/")
    assert filecmp.cmp(os.path.join(src, "b/c/d.json"), os.path.join(dst, "d.json"), shallow=False)


def test_revert_reset_and_rm(server, workdir):
    cli = server.cli
    cli("repo", "create", "ops")
    f = os.path.join(workdir, "f.txt")
    write(f, b"one")
    cli("cp", f, "lakemesh://ops/main/f.txt")
    cli("commit", "ops", "main", "-m", "one")
    write(f, b"two")
    cli("cp", f, "lakemesh://ops/main/f.txt")
    cli("commit", "ops", "main", "-m", "two")
    cli("revert", "ops", "main", "main")
    assert cli("cat", "lakemesh://ops/main/f.txt").stdout == "one"
    cli("rm", "lakemesh://ops/main/f.txt")
    assert cli("status", "ops", "main").stdout.strip() == "- f.txt"
    assert "discarded 1" in cli("reset", "ops", "main").stdout
    assert cli("cat", "lakemesh://ops/main/f.txt").stdout == "one"
    cli("reset", "ops", "main", "--to", "main~2")
    assert cli("cat", "lakemesh://ops/main/f.txt").stdout == "one"
    assert len(cli("log", "ops", "main", "--oneline").stdout.splitlines()) == 2


def test_merge_conflict_and_strategies(server, workdir):
    cli = server.cli
    cli("repo", "create", "conf")
    f = os.path.join(workdir, "f")
    write(f, b"base")
    cli("cp", f, "lakemesh://conf/main/x")
    cli("commit", "conf", "main", "-m", "base")
    cli("branch", "create", "conf", "feature")
    write(f, b"feature")
    cli("cp", f, "lakemesh://conf/feature/x")
    cli("commit", "conf", "feature", "-m", "feature")
    write(f, b"main")
    cli("cp", f, "lakemesh://conf/main/x")
    cli("commit", "conf", "main", "-m", "main")
    r = cli("merge", "conf", "feature", "main", check=False)
    assert r.returncode == 1
    assert "changed on both sides" in r.stderr and "  x" in r.stderr
    cli("merge", "conf", "feature", "main", "--strategy", "source-wins")
    assert cli("cat", "lakemesh://conf/main/x").stdout == "feature"


def test_cli_errors_are_clear(server):
    r = server.cli("repo", "create", "Bad_Name", check=False)
    assert r.returncode == 1
    assert "invalid repository name 'Bad_Name'" in r.stderr
    r = server.cli("log", "nope", "main", check=False)
    assert "repository 'nope' not found" in r.stderr
    r = server.cli("ls", "s3://x", check=False)
    assert "is not a lakemesh URI" in r.stderr
    r = server.cli("repo", "list", env={"LAKEMESH_URL": "http://127.0.0.1:1"}, check=False)
    assert r.returncode == 1 and "cannot reach lakemesh" in r.stderr
    r = server.cli("repo", "list", env={"LAKEMESH_SECRET_ACCESS_KEY": "wrong-secret"}, check=False)
    assert r.returncode == 1 and "invalid access key id or secret" in r.stderr
    r = server.cli("frobnicate", check=False)
    assert r.returncode != 0
