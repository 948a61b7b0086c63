"""`lakemesh dbt` on the example project examples/dbt/shop (seeds, staging views, marts
tables, an incremental model, generic and singular tests, a macro, vars): in-process on a data
directory and through a running server; a failing test skips what depends on the model it
tests; compile and ls with node selection."""
import json
import os
import shutil
import subprocess

import psycopg2

from conftest import BIN, KEY_ID, SECRET, Server

HERE = os.path.dirname(__file__)
SHOP = os.path.join(HERE, "..", "..", "examples", "dbt", "shop")


def dbt(server, *args, check=True):
    return server.cli("dbt", *args, check=check)


def local(data_dir, *args):
    return subprocess.run([BIN, "dbt"] + list(args) + ["--data", data_dir], capture_output=True,
                          text=True, timeout=300)


def test_build_in_process_and_incremental(workdir):
    s = Server(os.path.join(workdir, "data")).start()
    s.stop()
    project = os.path.join(workdir, "shop")
    shutil.copytree(SHOP, project)
    r = local(s.data_dir, "build", "--project-dir", project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 of 26 START seed file shop.raw_customers" in r.stdout
    assert "OK created sql incremental model shop.daily_revenue" in r.stdout
    assert "OK created snapshot shop.orders_status" in r.stdout
    assert "Completed successfully. PASS=26 WARN=0 ERROR=0 SKIP=0 TOTAL=26" in r.stdout
    # dbt's artifacts, in dbt's schemas.
    manifest = json.load(open(os.path.join(project, "target", "manifest.json")))
    assert manifest["metadata"]["dbt_schema_version"] == \
        "https://schemas.getdbt.com/dbt/manifest/v12.json"
    orders = manifest["nodes"]["model.shop.orders"]
    assert orders["config"]["materialized"] == "table" and orders["relation_name"] == "shop.orders"
    assert orders["depends_on"]["nodes"] == ["model.shop.stg_payments", "model.shop.stg_orders"]
    assert "model.shop.customers" in manifest["child_map"]["model.shop.orders"]
    test = manifest["nodes"]["test.shop.relationships_orders_customer_id"]
    assert test["test_metadata"] == {"name": "relationships",
                                     "kwargs": {"to": "ref('customers')", "field": "customer_id"}}
    results = json.load(open(os.path.join(project, "target", "run_results.json")))
    assert results["metadata"]["dbt_schema_version"] == \
        "https://schemas.getdbt.com/dbt/run-results/v6.json"
    # run-results v6 allows no other metadata, and needs these fields of every result.
    assert set(results["metadata"]) <= {"dbt_schema_version", "dbt_version", "generated_at",
                                        "invocation_id", "env"}
    for x in results["results"]:
        assert {"status", "timing", "thread_id", "execution_time", "adapter_response", "message",
                "failures", "unique_id", "compiled", "compiled_code", "relation_name"} <= set(x)
    seed = manifest["nodes"]["seed.shop.raw_orders"]
    assert seed["depends_on"] == {"macros": []} and "compiled_code" not in seed
    by_id = {x["unique_id"]: x for x in results["results"]}
    assert len(by_id) == 26 and by_id["model.shop.orders"]["status"] == "success"
    assert by_id["test.shop.unique_orders_order_id"]["status"] == "pass"
    assert by_id["test.shop.unique_orders_order_id"]["failures"] == 0
    q = subprocess.run([BIN, "sql", "--data", s.data_dir, "--format", "csv", "-c",
                        "SELECT customer_id, number_of_orders, lifetime_value FROM shop.customers "
                        "ORDER BY 1", "-c", "SELECT * FROM shop.daily_revenue ORDER BY 1"],
                       capture_output=True, text=True, timeout=60)
    assert q.returncode == 0, q.stderr
    assert "1,2,30.00\n2,2,45.00\n3,1,7.00\n4,1,3.00" in q.stdout
    assert "2026-01-03,2,10.00\n2026-01-04,1,25.00" in q.stdout
    # New orders: the incremental model takes the last day again, without duplicating it. An
    # order shipped: the snapshot closes its 'placed' version and opens a 'shipped' one.
    orders_csv = os.path.join(project, "seeds", "raw_orders.csv")
    text = open(orders_csv).read().replace("4,3,2026-01-03,placed", "4,3,2026-01-03,shipped")
    with open(orders_csv, "w") as f:
        f.write(text + "7,3,2026-01-04,completed\n8,4,2026-01-05,completed\n")
    with open(os.path.join(project, "seeds", "raw_payments.csv"), "a") as f:
        f.write("8,7,credit_card,500\n9,8,coupon,100\n")
    r = local(s.data_dir, "build", "--project-dir", project)
    assert r.returncode == 0, r.stdout + r.stderr
    q = subprocess.run([BIN, "sql", "--data", s.data_dir, "--format", "csv", "-c",
                        "SELECT * FROM shop.daily_revenue ORDER BY 1"],
                       capture_output=True, text=True, timeout=60)
    assert q.stdout.strip().splitlines()[-3:] == ["2026-01-03,2,10.00", "2026-01-04,2,30.00",
                                                  "2026-01-05,1,1.00"], q.stdout
    q = subprocess.run([BIN, "sql", "--data", s.data_dir, "--format", "csv", "-c",
                        "SELECT order_id, status, dbt_valid_to IS NULL AS current, "
                        "dbt_valid_to = (SELECT max(dbt_valid_from) FROM shop.orders_status) AS closed_now "
                        "FROM shop.orders_status ORDER BY order_id, dbt_valid_from"],
                       capture_output=True, text=True, timeout=60)
    assert q.returncode == 0, q.stderr
    rows = q.stdout.strip().splitlines()[1:]
    assert len(rows) == 9, q.stdout
    assert rows[3:5] == ["4,placed,f,t", "4,shipped,t,"], q.stdout
    assert rows[-2:] == ["7,completed,t,", "8,completed,t,"], q.stdout


def test_failing_test_skips_dependents(workdir):
    s = Server(os.path.join(workdir, "data")).start()
    s.stop()
    project = os.path.join(workdir, "shop")
    shutil.copytree(SHOP, project)
    with open(os.path.join(project, "seeds", "raw_orders.csv"), "a") as f:
        f.write("6,2,2026-01-05,lost\n")  # a duplicate id and a status nobody accepts
    r = local(s.data_dir, "build", "--project-dir", project)
    assert r.returncode != 0
    assert "FAIL test unique_stg_orders_order_id" in r.stdout
    assert "FAIL test accepted_values_stg_orders_status" in r.stdout
    assert "SKIP sql table model shop.orders" in r.stdout
    assert "SKIP sql table model shop.customers" in r.stdout
    assert "Failure in test unique_stg_orders_order_id" in r.stdout
    assert "Got 1 result, configured to fail if != 0" in r.stdout
    # What did not depend on it was built.
    assert "OK created sql view model shop.stg_payments" in r.stdout


def test_build_through_the_server(server, workdir):
    project = os.path.join(workdir, "shop")
    shutil.copytree(SHOP, project)
    r = dbt(server, "build", "--project-dir", project, "--schema", "analytics",
            "--vars", "{currency: USD}", "--threads", "4")
    assert "Concurrency: 4 threads" in r.stdout, r.stdout
    assert "Completed successfully" in r.stdout, r.stdout
    # With four threads, the three seeds (which depend on nothing) ran at once: their START
    # lines come before any of them finished.
    lines = r.stdout.splitlines()
    starts = [i for i, l in enumerate(lines) if "START seed file analytics.raw_" in l]
    oks = [i for i, l in enumerate(lines) if "OK created seed file analytics.raw_" in l]
    assert len(starts) == 3 and len(oks) == 3 and max(starts) < min(oks), r.stdout
    host, port = server.ports["pg"].rsplit(":", 1)
    conn = psycopg2.connect(host=host, port=port, user=KEY_ID, password=SECRET, dbname="x")
    cur = conn.cursor()
    cur.execute("SELECT count(*), min(currency) FROM analytics.orders")
    assert cur.fetchone() == (6, "USD")
    # Each model is an Iceberg table of the domain's repository, or a view.
    cur.execute("SELECT table_name, table_type FROM information_schema.tables "
                "WHERE table_schema = 'analytics' ORDER BY 1")
    kinds = dict(cur.fetchall())
    assert kinds["orders"] == "BASE TABLE" and kinds["stg_orders"] == "VIEW"
    conn.close()
    # A model can be rebuilt alone.
    r = dbt(server, "run", "--project-dir", project, "--schema", "analytics", "-s", "customers")
    assert "1 of 1 OK created sql table model analytics.customers" in r.stdout, r.stdout


def test_compile_and_ls(server, workdir):
    project = os.path.join(workdir, "shop")
    shutil.copytree(SHOP, project)
    r = dbt(server, "ls", "--project-dir", project, "-s", "+customers", "--exclude",
            "resource_type:test")
    assert r.stdout.split() == ["shop.raw_customers", "shop.staging.stg_customers",
                                "shop.raw_orders", "shop.staging.stg_orders",
                                "shop.raw_payments", "shop.staging.stg_payments",
                                "shop.marts.orders", "shop.marts.customers"]
    r = dbt(server, "ls", "--project-dir", project, "-s", "tag:gold", "--exclude",
            "resource_type:test")
    assert r.stdout.split() == ["shop.marts.orders", "shop.marts.customers",
                                "shop.marts.daily_revenue"]
    r = dbt(server, "compile", "--project-dir", project)
    assert "Compiled" in r.stdout
    compiled = open(os.path.join(project, "target", "compiled", "shop", "models", "staging",
                                 "stg_payments.sql")).read()
    assert "cast((amount / 100) as decimal(16, 2)) as amount" in compiled
    assert "from shop.raw_payments" in compiled
    r = dbt(server, "ls", "--project-dir", project, "-s", "nope", check=False)
    assert r.returncode != 0 and "does not match any node" in r.stderr


def test_write_audit_publish(server, workdir):
    """--branch NAME --publish: built and tested on a branch, merged into main only if every node
    and test passed; each model is a commit that names it."""
    project = os.path.join(workdir, "shop")
    shutil.copytree(SHOP, project)
    r = dbt(server, "build", "--project-dir", project, "--branch", "wap1", "--publish",
            "--threads", "3")
    assert "Created branch wap1 of domain shop" in r.stdout, r.stdout
    assert "Published: merged wap1 into main of domain shop" in r.stdout, r.stdout
    log = server.cli("log", "shop", "main").stdout
    assert "dbt build: publish wap1" in log
    assert "dbt: table model shop.orders (model.shop.orders)" in server.cli("log", "shop", "wap1").stdout
    host, port = server.ports["pg"].rsplit(":", 1)
    conn = psycopg2.connect(host=host, port=port, user=KEY_ID, password=SECRET, dbname="x")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM shop.orders")
    assert cur.fetchone() == (6,)
    # A build whose tests fail is not published: main keeps what it had.
    with open(os.path.join(project, "seeds", "raw_orders.csv"), "a") as f:
        f.write("6,2,2026-01-05,completed\n")  # a duplicate order id
    r = dbt(server, "build", "--project-dir", project, "--branch", "wap2", "--publish", check=False)
    assert r.returncode != 0
    assert "Not published: main is untouched; the branch wap2 is kept for inspection." in r.stdout
    cur.execute("SELECT count(*) FROM shop.raw_orders")
    assert cur.fetchone() == (6,)
    cur.execute('SELECT count(*) FROM shop."raw_orders@wap2"')
    assert cur.fetchone() == (7,)
    conn.close()
    r = dbt(server, "build", "--project-dir", project, "--publish", check=False)
    assert r.returncode != 0 and "--publish merges the build's branch into main" in r.stderr


def test_a_deep_chain_of_views(workdir):
    """Views over views over views, 20 deep: each is resolved once per statement."""
    s = Server(os.path.join(workdir, "data")).start()
    s.stop()
    project = os.path.join(workdir, "chain")
    os.makedirs(os.path.join(project, "models"))
    with open(os.path.join(project, "dbt_project.yml"), "w") as f:
        f.write("name: chain\n")
    with open(os.path.join(project, "models", "v00.sql"), "w") as f:
        f.write("select 1 as n")
    for i in range(1, 20):
        with open(os.path.join(project, "models", "v%02d.sql" % i), "w") as f:
            # every view also reads the first: many paths lead to it
            f.write("select a.n + 1 as n from {{ ref('v%02d') }} a cross join {{ ref('v00') }} b"
                    % (i - 1))
    r = local(s.data_dir, "run", "--project-dir", project)
    assert r.returncode == 0, r.stdout + r.stderr
    q = subprocess.run([BIN, "sql", "--data", s.data_dir, "--format", "csv", "-c",
                        "SELECT n FROM chain.v19"], capture_output=True, text=True, timeout=60)
    assert q.stdout.split() == ["n", "20"], q.stdout + q.stderr


def test_profiles_yml(workdir):
    """The profile's output of type lakemesh gives the domain and where the SQL runs; flags win."""
    s = Server(os.path.join(workdir, "data")).start()
    s.stop()
    project = os.path.join(workdir, "shop")
    shutil.copytree(SHOP, project)
    profiles = os.path.join(workdir, "profiles")
    os.makedirs(profiles)
    with open(os.path.join(profiles, "profiles.yml"), "w") as f:
        f.write("lakemesh:\n  target: local\n  outputs:\n    local:\n      type: lakemesh\n"
                "      schema: \"{{ env_var('SHOP_DOMAIN', 'retail') }}\"\n      data: %s\n"
                "    other:\n      type: postgres\n" % s.data_dir)
    r = subprocess.run([BIN, "dbt", "seed", "--project-dir", project, "--profiles-dir", profiles],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK created seed file retail.raw_orders" in r.stdout
    r = subprocess.run([BIN, "dbt", "seed", "--project-dir", project, "--profiles-dir", profiles,
                        "--schema", "flagged"], capture_output=True, text=True, timeout=120)
    assert "OK created seed file flagged.raw_orders" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([BIN, "dbt", "seed", "--project-dir", project, "--profiles-dir", profiles,
                        "--target", "other"], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "lakemesh runs outputs of type: lakemesh" in r.stderr


def test_profile_names_the_server(server, workdir):
    """A profile's `url` is the server the build goes through (its PostgreSQL port asked of it),
    branch and all: write-audit-publish from profiles.yml alone."""
    project = os.path.join(workdir, "shop")
    shutil.copytree(SHOP, project)
    profiles = os.path.join(workdir, "profiles")
    os.makedirs(profiles)
    with open(os.path.join(profiles, "profiles.yml"), "w") as f:
        f.write("lakemesh:\n  target: prod\n  outputs:\n    prod:\n      type: lakemesh\n"
                "      url: %s\n      schema: served\n      branch: nightly\n      threads: 2\n"
                % server.url)
    env = dict(server.env)
    env.pop("LAKEMESH_URL", None)
    r = subprocess.run([BIN, "dbt", "build", "--project-dir", project, "--profiles-dir", profiles,
                        "--publish"], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Concurrency: 2 threads (target='prod')" in r.stdout
    assert "Published: merged nightly into main of domain served" in r.stdout
    assert "dbt build: publish nightly" in server.cli("log", "served", "main").stdout


def test_demo_mesh_builds_the_example_project(demo_server):
    """`lakemesh serve --demo` (what `make run` starts) builds examples/dbt/shop into the domain
    shop in the background once the server is up."""
    import time
    host, port = demo_server.ports["pg"].rsplit(":", 1)
    conn = psycopg2.connect(host=host, port=port, user=KEY_ID, password=SECRET, dbname="x")
    conn.autocommit = True
    cur = conn.cursor()
    deadline = time.time() + 30
    rows = None
    while time.time() < deadline:
        try:
            cur.execute("SELECT count(*), sum(lifetime_value) FROM shop.customers")
            rows = cur.fetchone()
            break
        except psycopg2.Error:
            time.sleep(0.2)
    assert rows is not None and rows[0] == 4 and float(rows[1]) == 85.0, rows
    log = demo_server.cli("log", "shop", "main", "--oneline").stdout
    assert "dbt: table model shop.customers" in log
    conn.close()


def test_warn_if_error_if_and_store_failures(workdir):
    s = Server(os.path.join(workdir, "data")).start()
    s.stop()
    project = os.path.join(workdir, "shop")
    shutil.copytree(SHOP, project)
    with open(os.path.join(project, "seeds", "raw_orders.csv"), "a") as f:
        f.write("7,2,2026-01-05,lost\n8,2,2026-01-05,lost\n")  # two orders of an unknown status
    with open(os.path.join(project, "models", "staging", "schema.yml")) as f:
        yml = f.read()
    yml = yml.replace("values: ['placed', 'shipped', 'completed', 'returned']",
                      "values: ['placed', 'shipped', 'completed', 'returned']\n"
                      "              config:\n                warn_if: '>0'\n"
                      "                error_if: '>5'")
    with open(os.path.join(project, "models", "staging", "schema.yml"), "w") as f:
        f.write(yml)
    r = local(s.data_dir, "build", "--project-dir", project, "--store-failures")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "WARN test accepted_values_stg_orders_status" in r.stdout
    assert "Got 1 result, configured to warn if >0" in r.stdout  # one status value: 'lost'
    assert "SKIP=0" in r.stdout  # a warning stops nothing
    q = subprocess.run([BIN, "sql", "--data", s.data_dir, "--format", "csv", "-c",
                        "SELECT value_field, n_records FROM "
                        '"shop-dbt-test-audit".accepted_values_stg_orders_status'],
                       capture_output=True, text=True, timeout=60)
    assert q.stdout.split() == ["value_field,n_records", "lost,2"], q.stdout + q.stderr


FEATURES = os.path.join(HERE, "dbt_features")


def sql_csv(data_dir, *statements):
    args = [BIN, "sql", "--data", data_dir, "--format", "csv"]
    for st in statements:
        args += ["-c", st]
    q = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert q.returncode == 0, q.stderr
    return q.stdout


def test_incremental_strategies_snapshots_and_introspection(workdir):
    """test/e2e/dbt_features: merge with merge_update_columns, on_schema_change, snapshots
    (timestamp with hard deletes invalidated; check, declared in YAML), run_query, statement
    blocks and load_result, the adapter's introspection, graph, modules.datetime, a custom
    generic test, pre- and post-hooks, on-run-start and on-run-end, `dbt snapshot`, `dbt compile`
    (which queries) and `dbt docs generate`."""
    import datetime
    s = Server(os.path.join(workdir, "data")).start()
    s.stop()
    data = s.data_dir
    project = os.path.join(workdir, "features")
    shutil.copytree(FEATURES, project)
    r = local(data, "build", "--project-dir", project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK created snapshot features-history.customers_history" in r.stdout
    assert "OK created snapshot features.customer_tiers" in r.stdout
    assert "PASS test positive_events_merge_amount" in r.stdout
    assert "  introspection sees 3 customers\n" in r.stdout  # log(..., info=True), once
    assert r.stdout.count("introspection sees") == 1
    # Hooks: on-run-start made the log, the model's pre- and post-hooks wrote to it in its
    # transaction, on-run-end last.
    assert sql_csv(data, "SELECT event, detail FROM features.run_log ORDER BY 1").splitlines()[1:] == [
        "end,16 nodes", "post,events_merge", "pre,events_merge"]
    year = datetime.datetime.now(datetime.timezone.utc).year
    assert sql_csv(data, "SELECT * FROM features.introspection").splitlines()[1] == (
        "click|view,3,table,none,id|name|tier|updated_at,cross_db|dim_customers|dim_customers|events_evolving|"
        "events_merge|introspection|versions_check,%d,%d" % (year, year))
    # dbt's cross-database macros (dbt.<name>, plain, and through adapter.dispatch).
    assert sql_csv(data, "SELECT * FROM features.cross_db").splitlines()[1] == (
        "2026-03-01,2026-03-18,14,,ab,b,2026-02-28,it's,\"click,click,view\","
        "9dd4e461268c8034f5c8564e155c67a6,varchar")
    # Versioned models: ref() takes the latest_version, or v=/version=; each version is its own
    # relation, with its own tests.
    assert sql_csv(data, "SELECT * FROM features.versions_check").splitlines()[1] == \
        "features.dim_customers_v1,features.dim_customers_v2,3,1"
    assert "PASS test unique_dim_customers_v2_id" in r.stdout
    # A table model become a view, and back.
    path = os.path.join(project, "models", "versions_check.sql")
    code = open(path).read()
    for materialized in ("view", "table"):
        with open(path, "w") as f:
            f.write(code.replace("materialized='table'", "materialized='%s'" % materialized))
        r2 = local(data, "run", "--project-dir", project, "-s", "versions_check")
        assert "OK created sql %s model features.versions_check" % materialized in r2.stdout, r2.stdout
        assert sql_csv(data, "SELECT table_type FROM information_schema.tables WHERE table_schema = "
                             "'features' AND table_name = 'versions_check'").splitlines()[1] == \
            ("VIEW" if materialized == "view" else "BASE TABLE")
    manifest = json.load(open(os.path.join(project, "target", "manifest.json")))
    v2 = manifest["nodes"]["model.features.dim_customers.v2"]
    assert v2["version"] == "2" and v2["latest_version"] == "1" and v2["config"]["materialized"] == "table"

    # The sources change: an event's amount and kind, a new event; a customer's tier moves
    # (updated later), another customer is gone.
    with open(os.path.join(project, "seeds", "events.csv"), "w") as f:
        f.write("id,customer_id,kind,amount\n1,1,purchase,15\n2,2,view,20\n3,2,click,30\n4,1,view,40\n")
    with open(os.path.join(project, "seeds", "customers.csv"), "w") as f:
        f.write("id,name,tier,updated_at\n1,ada,gold,2026-01-01 00:00:00\n2,bob,gold,2026-02-01 00:00:00\n")
    r = local(data, "seed", "--project-dir", project)
    assert r.returncode == 0, r.stdout + r.stderr
    r = local(data, "snapshot", "--project-dir", project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 of 2 OK created snapshot" in r.stdout and "model" not in r.stdout
    history = sql_csv(data, "SELECT id, tier, dbt_valid_from, dbt_valid_to IS NULL FROM "
                            "\"features-history\".customers_history ORDER BY id, dbt_valid_from")
    assert history.splitlines()[1:] == [
        "1,gold,2026-01-01 00:00:00,t",
        "2,silver,2026-01-01 00:00:00,f",
        "2,gold,2026-02-01 00:00:00,t",
        "3,bronze,2026-01-01 00:00:00,f",  # gone from the source: its version is closed
    ], history
    tiers = sql_csv(data, "SELECT id, tier, dbt_valid_to IS NULL FROM features.customer_tiers "
                          "ORDER BY id, dbt_valid_from")
    assert tiers.splitlines()[1:] == ["1,gold,t", "2,silver,f", "2,gold,t", "3,bronze,t"], tiers
    # A second snapshot run with nothing changed adds nothing.
    r = local(data, "snapshot", "--project-dir", project, "-s", "customer_tiers")
    assert r.returncode == 0 and "[INSERT 0 0 in" in r.stdout, r.stdout + r.stderr

    r = local(data, "run", "--project-dir", project, "-s", "events_merge", "events_evolving")
    assert r.returncode == 0, r.stdout + r.stderr
    # merge: the amount of event 1 updated, its kind not (merge_update_columns), event 4 new.
    assert sql_csv(data, "SELECT * FROM features.events_merge ORDER BY id").splitlines()[1:] == [
        "1,1,click,15", "2,2,view,20", "3,2,click,30", "4,1,view,40"]
    # on_schema_change: a column the model gains is added (append_new_columns) ...
    with open(os.path.join(project, "seeds", "events.csv"), "a") as f:
        f.write("5,2,click,50\n")
    assert local(data, "seed", "--project-dir", project).returncode == 0
    r = local(data, "run", "--project-dir", project, "-s", "events_evolving", "--vars", "{with_kind: true}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert sql_csv(data, "SELECT * FROM features.events_evolving ORDER BY id").splitlines() == [
        "id,amount,kind", "1,10,", "2,20,", "3,30,", "4,40,", "5,50,click"]
    # ... fail refuses a model out of step with its table ...
    r = local(data, "run", "--project-dir", project, "-s", "events_evolving", "--vars",
              "{on_schema_change: fail}")
    assert r.returncode != 0
    assert "schemas on this incremental model are out of sync" in r.stdout
    assert "missing columns: kind" in r.stdout
    # ... and sync_all_columns drops what the model no longer has.
    r = local(data, "run", "--project-dir", project, "-s", "events_evolving", "--vars",
              "{on_schema_change: sync_all_columns}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert sql_csv(data, "SELECT * FROM features.events_evolving ORDER BY id").splitlines()[0] == "id,amount"

    # compile runs the templates' queries (run_query) against the database.
    r = local(data, "compile", "--project-dir", project, "-s", "introspection")
    assert r.returncode == 0, r.stdout + r.stderr
    compiled = open(os.path.join(project, "target", "compiled", "features", "models",
                                 "introspection.sql")).read()
    assert "'click|purchase|view' as kinds" in compiled and "2 as customers" in compiled

    # docs generate: catalog.json in dbt's schema, with every relation's columns.
    r = local(data, "docs", "generate", "--project-dir", project)
    assert r.returncode == 0, r.stdout + r.stderr
    catalog = json.load(open(os.path.join(project, "target", "catalog.json")))
    assert catalog["metadata"]["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/catalog/v1.json"
    node = catalog["nodes"]["model.features.events_merge"]
    assert node["metadata"]["type"] == "BASE TABLE" and node["metadata"]["schema"] == "features"
    assert [(c["name"], c["index"]) for c in sorted(node["columns"].values(), key=lambda c: c["index"])] == \
        [("id", 1), ("customer_id", 2), ("kind", 3), ("amount", 4)]
    assert "dbt_valid_to" in catalog["nodes"]["snapshot.features.customers_history"]["columns"]
    assert catalog["nodes"]["seed.features.customers"]["columns"]["updated_at"]["type"] == "TIMESTAMP"
