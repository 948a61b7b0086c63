"""The Iceberg REST catalog at /iceberg: the npm iceberg-js client end to end (every response
validated against the spec's OpenAPI schemas), and the spec's error model, authentication,
branch behaviour and concurrency checked directly over HTTP."""
import io
import json
import os
import subprocess
import threading

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import KEY_ID, SECRET

HERE = os.path.dirname(__file__)
SPEC = os.path.join(HERE, "..", "..", "..", "shared", "specs", "iceberg", "rest-catalog-open-api.yaml")

SCHEMA = {"type": "struct", "fields": [
    {"id": 1, "name": "id", "type": "long", "required": True},
    {"id": 2, "name": "day", "type": "date", "required": False}]}


class Iceberg:
    """A minimal REST client: a bearer token from the OAuth endpoint, JSON in and out."""

    def __init__(self, srv, prefix="main"):
        self.base = srv.url + "/iceberg/v1"
        self.prefix = prefix
        r = requests.post(self.base + "/oauth/tokens", data={
            "grant_type": "client_credentials", "client_id": KEY_ID, "client_secret": SECRET})
        assert r.status_code == 200, r.text
        self.headers = {"Authorization": "Bearer " + r.json()["access_token"]}

    def at(self, prefix):
        other = Iceberg.__new__(Iceberg)
        other.base, other.prefix, other.headers = self.base, prefix, self.headers
        return other

    def call(self, method, path, body=None, **kw):
        return requests.request(method, "%s/%s%s" % (self.base, self.prefix, path),
                                headers=self.headers, json=body, timeout=30, **kw)

    def create_table(self, ns, name, **extra):
        r = self.call("POST", "/namespaces/%s/tables" % ns, dict(name=name, schema=SCHEMA, **extra))
        assert r.status_code == 200, r.text
        return r.json()

    def append(self, ns, table, snap_id, parent, seq):
        snap = {"snapshot-id": snap_id, "sequence-number": seq, "timestamp-ms": 1700000000000 + seq,
                "manifest-list": "s3://x/_tables/y/metadata/snap-%d.avro" % snap_id,
                "summary": {"operation": "append"}}
        if parent is not None:
            snap["parent-snapshot-id"] = parent
        return self.call("POST", "/namespaces/%s/tables/%s" % (ns, table), {
            "requirements": [{"type": "assert-ref-snapshot-id", "ref": "main", "snapshot-id": parent}],
            "updates": [{"action": "add-snapshot", "snapshot": snap},
                        {"action": "set-snapshot-ref", "ref-name": "main", "type": "branch",
                         "snapshot-id": snap_id}]})


def error(r, status, typ):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["type"] == typ and body["error"]["code"] == status, body
    assert body["error"]["message"]
    return body["error"]["message"]


def test_iceberg_js_client_workflow(server):
    node_dir = os.path.join(HERE, "node")
    if not os.path.isdir(os.path.join(node_dir, "node_modules", "iceberg-js")):
        pytest.fail("test/e2e/node has no iceberg-js (scripts/install-deps.sh installs it)")
    env = dict(os.environ, LAKEMESH_ACCESS_KEY_ID=KEY_ID, LAKEMESH_SECRET_ACCESS_KEY=SECRET)
    r = subprocess.run(["node", os.path.join(node_dir, "iceberg_client.mjs"), server.url, SPEC],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["validated"] >= 25


def test_authentication_and_error_model(server):
    base = server.url + "/iceberg/v1"
    error(requests.get(base + "/main/namespaces"), 401, "NotAuthorizedException")
    error(requests.get(base + "/main/namespaces", headers={"Authorization": "Bearer nope"}),
          401, "NotAuthorizedException")
    r = requests.post(base + "/oauth/tokens", data={"grant_type": "password", "client_id": KEY_ID})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    # A token can be refreshed by token exchange, as Java clients do.
    ice = Iceberg(server)
    r = requests.post(base + "/oauth/tokens", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": ice.headers["Authorization"][7:],
        "subject_token_type": "urn:ietf:params:oauth:token-type:access_token"})
    assert r.status_code == 200 and r.json()["access_token"]
    # HTTP Basic with an access key works too.
    assert requests.get(base + "/main/namespaces", auth=(KEY_ID, SECRET)).status_code == 200

    r = requests.post(base + "/main/namespaces", headers=ice.headers, data="{not json")
    error(r, 400, "BadRequestException")
    error(ice.call("POST", "/namespaces", {"namespace": []}), 400, "BadRequestException")
    error(ice.call("POST", "/namespaces", {"namespace": ["Bad Name"]}), 400, "BadRequestException")
    error(ice.at("_tables").call("GET", "/namespaces"), 400, "BadRequestException")
    error(ice.call("GET", "/namespaces/nope"), 404, "NoSuchNamespaceException")
    error(ice.call("GET", "/namespaces/nope/tables/t"), 404, "NoSuchNamespaceException")
    assert ice.call("POST", "/namespaces", {"namespace": ["dom"]}).status_code == 200
    error(ice.call("GET", "/namespaces/dom/tables/t"), 404, "NoSuchTableException")
    assert ice.call("HEAD", "/namespaces/dom/tables/t").status_code == 404
    error(ice.call("PUT", "/namespaces"), 405, "MethodNotAllowedException")
    r = requests.get(server.url + "/iceberg/v2/whatever", headers=ice.headers)
    error(r, 404, "NotFoundException")
    # Schema problems are the client's: 400 with a message naming them.
    r = ice.call("POST", "/namespaces/dom/tables", {"name": "t", "schema": {
        "type": "struct", "fields": [{"id": 1, "name": "a", "type": "varchar", "required": True}]}})
    assert "varchar" in error(r, 400, "BadRequestException")
    ice.create_table("dom", "t")
    r = ice.call("POST", "/namespaces/dom/tables/t", {"updates": [{"action": "frobnicate"}]})
    assert "frobnicate" in error(r, 400, "BadRequestException")
    r = ice.call("POST", "/namespaces/dom/tables/t", {
        "identifier": {"namespace": ["dom"], "name": "other"}, "updates": []})
    error(r, 400, "BadRequestException")
    error(ice.call("POST", "/tables/rename", {"source": {"namespace": ["dom"], "name": "t"},
                                              "destination": {"namespace": ["xyz"], "name": "t"}}),
          404, "NoSuchNamespaceException")


def test_namespace_pagination(server):
    ice = Iceberg(server)
    assert ice.call("POST", "/namespaces", {"namespace": ["pag"]}).status_code == 200
    for i in range(5):
        assert ice.call("POST", "/namespaces", {"namespace": ["pag", "n%d" % i]}).status_code == 200
    seen, token = [], None
    while True:
        params = {"parent": "pag", "pageSize": "2"}
        if token:
            params["pageToken"] = token
        r = ice.call("GET", "/namespaces", params=params)
        assert r.status_code == 200
        seen += [n[1] for n in r.json()["namespaces"]]
        token = r.json().get("next-page-token")
        if not token:
            break
    assert seen == ["n0", "n1", "n2", "n3", "n4"]
    r = ice.call("GET", "/namespaces", params={"parent": "pag\x1fn1"})
    assert r.status_code == 200 and r.json()["namespaces"] == []


def test_table_files_are_read_through_s3(server):
    ice = Iceberg(server)
    assert ice.call("POST", "/namespaces", {"namespace": ["files"]}).status_code == 200
    t = ice.create_table("files", "t")
    loc = t["metadata-location"]
    assert loc.startswith("s3://files/_tables/") and loc.endswith(".metadata.json")
    assert t["config"]["s3.endpoint"] == "http://" + server.ports["s3"]
    s3 = boto3.client("s3", endpoint_url=t["config"]["s3.endpoint"], aws_access_key_id=KEY_ID,
                      aws_secret_access_key=SECRET, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    bucket, key = loc[len("s3://"):].split("/", 1)
    obj = s3.get_object(Bucket=bucket, Key=key)
    assert json.loads(obj["Body"].read()) == t["metadata"]
    assert obj["ContentType"] == "application/json"
    # Metadata files are never overwritten; an engine's new files are written once.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    data_key = key.split("/metadata/")[0] + "/data/part-00000.parquet"
    s3.put_object(Bucket=bucket, Key=data_key, Body=b"PAR1 not really PAR1")
    assert s3.get_object(Bucket=bucket, Key=data_key)["Body"].read() == b"PAR1 not really PAR1"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key=data_key, Body=b"other bytes")
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key=data_key)["Body"].read() == b"PAR1 not really PAR1"
    for op in (lambda: s3.delete_object(Bucket=bucket, Key=data_key),
               lambda: s3.copy_object(Bucket=bucket, Key=data_key + ".copy",
                                      CopySource={"Bucket": bucket, "Key": data_key})):
        with pytest.raises(ClientError) as e:
            op()
        assert e.value.response["Error"]["Code"] == "AccessDenied"
    # Large data files arrive as multipart uploads (engines switch above a few MiB): allowed to
    # create a table file, never to replace one.
    from boto3.s3.transfer import TransferConfig
    big = os.urandom(12 << 20)
    cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    big_key = key.split("/metadata/")[0] + "/data/part-00001.parquet"
    s3.upload_fileobj(io.BytesIO(big), bucket, big_key, Config=cfg)
    assert s3.get_object(Bucket=bucket, Key=big_key)["Body"].read() == big
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key=big_key)
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="_tables/loose-file", Body=b"x")
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="_tables/no/such/file.json")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    # No branch may take the reserved name.
    r = server.api("POST", "/api/v1/repositories/files/branches", json={"name": "_tables", "source": "main"})
    assert r.status_code == 400


def test_commits_are_repository_commits_and_branches_merge(server):
    ice = Iceberg(server)
    assert ice.call("POST", "/namespaces", {"namespace": ["shop"]}).status_code == 200
    ice.create_table("shop", "orders")
    assert server.api("POST", "/api/v1/repositories/shop/branches",
                      json={"name": "dev", "source": "main"}).status_code == 201
    dev = ice.at("dev")
    r = dev.append("shop", "orders", 11, None, 1)
    assert r.status_code == 200, r.text
    assert ice.call("GET", "/namespaces/shop/tables/orders").json()["metadata"]["current-snapshot-id"] == -1
    log = server.api("GET", "/api/v1/repositories/shop/refs/dev/commits").json()["results"]
    assert "shop.orders: append" in log[0]["message"]
    assert "Create table shop.orders" in log[1]["message"]
    # Only dev changed the table: merging fast-forwards it on main.
    r = server.api("POST", "/api/v1/repositories/shop/refs/dev/merge/main", json={})
    assert r.status_code == 201 and r.json()["changes"] == 1, r.text
    meta = ice.call("GET", "/namespaces/shop/tables/orders").json()["metadata"]
    assert meta["current-snapshot-id"] == 11
    # Time travel: the table as it was at dev's first commit (right after creation).
    first = log[1]["id"]
    old = ice.at(first).call("GET", "/namespaces/shop/tables/orders").json()["metadata"]
    assert old["current-snapshot-id"] == -1
    error(ice.at(first).append("shop", "orders", 12, 11, 2), 400, "BadRequestException")


def test_concurrent_appends_lose_no_snapshot(server):
    ice = Iceberg(server)
    assert ice.call("POST", "/namespaces", {"namespace": ["race"]}).status_code == 200
    ice.create_table("race", "t")
    lock = threading.Lock()
    conflicts = [0]
    errors = []

    def writer(w):
        for i in range(8):
            snap_id = w * 1000 + i
            while True:  # the client's retry loop: reload, rebase, recommit
                m = ice.call("GET", "/namespaces/race/tables/t").json()["metadata"]
                parent = m["current-snapshot-id"] if m["current-snapshot-id"] != -1 else None
                r = ice.append("race", "t", snap_id, parent, m["last-sequence-number"] + 1)
                if r.status_code == 200:
                    break
                if r.status_code != 409 or r.json()["error"]["type"] != "CommitFailedException":
                    errors.append(r.text)
                    return
                with lock:
                    conflicts[0] += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    m = ice.call("GET", "/namespaces/race/tables/t").json()["metadata"]
    assert len(m["snapshots"]) == 32
    assert m["last-sequence-number"] == 32
    # The chain of parents from main's head covers every snapshot: none was lost.
    by_id = {s["snapshot-id"]: s for s in m["snapshots"]}
    chain, cur = 0, m["current-snapshot-id"]
    while cur is not None:
        chain += 1
        cur = by_id[cur].get("parent-snapshot-id")
    assert chain == 32


def test_cli_table_commands(server):
    ice = Iceberg(server)
    assert ice.call("POST", "/namespaces", {"namespace": ["cli"]}).status_code == 200
    assert ice.call("POST", "/namespaces", {"namespace": ["cli", "stage"]}).status_code == 200
    ice.create_table("cli", "orders", **{"partition-spec": {"fields": [
        {"source-id": 2, "name": "day_month", "transform": "month"}]}})
    ice.create_table("cli\x1fstage", "raw")
    assert ice.append("cli", "orders", 1, None, 1).status_code == 200
    assert ice.append("cli", "orders", 2, 1, 2).status_code == 200

    assert server.cli("table", "list", "cli").stdout.split() == ["TABLE", "cli.orders"]
    assert server.cli("table", "list", "cli.stage").stdout.split() == ["TABLE", "cli.stage.raw"]
    out = server.cli("table", "describe", "cli.orders").stdout
    assert "snapshot  2 (append" in out and "month(day)" in out and "decimal" not in out
    assert "id" in out and "long" in out and "yes" in out
    out = server.cli("table", "snapshots", "cli.orders").stdout.splitlines()
    assert out[0].split()[:3] == ["SNAPSHOT", "PARENT", "SEQ"] and len(out) == 3
    assert out[2].split()[-1] == "main"
    out = server.cli("table", "rollback", "cli.orders", "1").stdout
    assert "current snapshot 1 (was 2)" in out
    hist = server.cli("table", "history", "cli.orders").stdout.splitlines()
    assert len(hist) == 4 and hist[-1].split()[1:] == ["1", "append", "*"]
    # The rollback is a commit of its own; the table before it is one ref expression away.
    before = json.loads(server.cli("--json", "table", "describe", "cli.orders", "--ref", "main~1").stdout)
    assert before["metadata"]["current-snapshot-id"] == 2
    r = server.cli("table", "rollback", "cli.orders", "99", check=False)
    assert r.returncode == 1 and "has no snapshot 99" in r.stderr
    r = server.cli("table", "describe", "cli.nope", check=False)
    assert r.returncode == 1 and "Table does not exist: cli.nope" in r.stderr
    r = server.cli("table", "describe", "orders", check=False)
    assert r.returncode == 1 and "DOMAIN.TABLE" in r.stderr


def test_sigv4_signed_catalog_requests(server):
    """rest.sigv4-enabled: requests signed as PyIceberg signs them (botocore's SigV4Auth, which
    sends no x-amz-content-sha256) and as Java's signer does (with it), under any signing name."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    def signed(method, path, body=None, secret=SECRET, service="execute-api", content_sha=False,
               tamper=None):
        url = server.url + "/iceberg/v1" + path
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if content_sha:
            import hashlib
            headers["x-amz-content-sha256"] = hashlib.sha256(data).hexdigest()
        req = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(Credentials(KEY_ID, secret), service, "us-east-1").add_auth(req)
        prepared = req.prepare()
        return requests.request(method, url, headers=dict(prepared.headers),
                                data=tamper if tamper is not None else data, timeout=30)

    r = signed("GET", "/config")
    assert r.status_code == 200, r.text
    r = signed("POST", "/main/namespaces", {"namespace": ["signed"]})
    assert r.status_code == 200, r.text
    r = signed("POST", "/main/namespaces/signed/tables", {"name": "t", "schema": SCHEMA},
               service="glue", content_sha=True)
    assert r.status_code == 200, r.text
    r = signed("GET", "/main/namespaces/signed/tables/t", service="s3tables")
    assert r.status_code == 200 and r.json()["metadata"]["schemas"][0]["fields"][0]["name"] == "id"
    # A wrong secret, a body changed after signing, an unknown key: 401/400 in the error model.
    r = signed("GET", "/main/namespaces", secret="wrong-secret-0123456789abcdefghijklmn")
    error(r, 401, "NotAuthorizedException")
    r = signed("POST", "/main/namespaces", {"namespace": ["evil"]},
               tamper=json.dumps({"namespace": ["other"]}).encode())
    error(r, 401, "NotAuthorizedException")
    r = signed("POST", "/main/namespaces", {"namespace": ["evil"]}, content_sha=True,
               tamper=json.dumps({"namespace": ["other"]}).encode())
    error(r, 400, "BadRequestException")
    assert ice_names(server) == ["signed"]


def ice_names(server):
    r = requests.get(server.url + "/iceberg/v1/main/namespaces", auth=(KEY_ID, SECRET), timeout=30)
    return [ns[0] for ns in r.json()["namespaces"]]
