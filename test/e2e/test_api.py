"""The REST API: status codes, error bodies, bad input, pagination, ranges."""
import json

import pytest


def mkrepo(server, name="sales"):
    r = server.api("POST", "/api/v1/repositories", json={"name": name})
    assert r.status_code == 201, r.text
    return name


def put(server, repo, branch, path, data, headers=None):
    return server.api("PUT", "/api/v1/repositories/%s/branches/%s/objects" % (repo, branch),
                      params={"path": path}, data=data, headers=headers or {})


def get(server, repo, ref, path, headers=None):
    return server.api("GET", "/api/v1/repositories/%s/refs/%s/objects" % (repo, ref),
                      params={"path": path}, headers=headers or {})


def commit(server, repo, branch, msg="c"):
    r = server.api("POST", "/api/v1/repositories/%s/branches/%s/commits" % (repo, branch),
                   json={"message": msg})
    assert r.status_code == 201, r.text
    return r.json()


def error(r):
    body = r.json()
    return body["error"]["code"], body["error"]["message"]


def test_every_request_is_authenticated(server):
    r = server.api("GET", "/api/v1/repositories", auth=None)
    assert r.status_code == 401
    assert error(r)[0] == "Unauthenticated"
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert server.api("GET", "/api/v1/repositories", auth=("LMTESTADMINKEY000001", "nope")
                      ).status_code == 401
    assert server.api("GET", "/api/v1/repositories", auth=("nobody", "x" * 10)).status_code == 401
    r = server.api("GET", "/api/v1/repositories", auth=None,
                   headers={"Authorization": "Bearer lmt_forged"})
    assert r.status_code == 401
    assert server.api("GET", "/api/v1/auth/whoami").json()["name"] == "admin"


def test_bad_names_and_paths_are_rejected(server):
    mkrepo(server)
    cases = [
        ("POST", "/api/v1/repositories", {"json": {"name": "ab"}}, 400, "invalid repository name"),
        ("POST", "/api/v1/repositories", {"json": {"name": "x" * 64}}, 400, "length"),
        ("POST", "/api/v1/repositories", {"json": {}}, 400, "field 'name' is required"),
        ("POST", "/api/v1/repositories", {"data": "{not json"}, 400, "not valid JSON"),
        ("POST", "/api/v1/repositories/sales/branches", {"json": {"name": "a..b"}}, 400,
         "contains '..'"),
        ("POST", "/api/v1/repositories/sales/branches", {"json": {"name": "x" * 129}}, 400,
         "length"),
        ("POST", "/api/v1/repositories/sales/branches", {"json": {"name": "ok", "source": "nope"}},
         404, "ref 'nope' not found"),
        ("GET", "/api/v1/repositories/sales/refs/main~99/commits", {}, 404, "past the first"),
        ("GET", "/api/v1/repositories/sales/refs/main@{junk}/commits", {}, 400, "RFC 3339"),
        ("GET", "/api/v1/repositories/nope/branches", {}, 404, "repository 'nope' not found"),
        ("GET", "/api/v1/repositories/sales/refs/main/objects/ls", {"params": {"limit": "0"}}, 400,
         "limit"),
    ]
    for method, path, kw, status, text in cases:
        r = server.api(method, path, **kw)
        assert r.status_code == status, (path, r.text)
        assert text in error(r)[1], (path, r.text)
    for bad in ["../etc/passwd", "a/../../b", "/abs", "a/./b", "a\x00b", "a\nb", "x" * 1025]:
        r = put(server, "sales", "main", bad, b"x")
        assert r.status_code == 400, (bad, r.text)
        assert error(r)[0] == "InvalidArgument"
    r = put(server, "sales", "main", "ok.txt", b"x")
    assert r.status_code == 201
    # Invalid UTF-8 in the path.
    r = server.api("PUT", "/api/v1/repositories/sales/branches/main/objects?path=%ff%fe", data=b"x")
    assert r.status_code == 400 and "UTF-8" in error(r)[1]


def test_writes_only_go_to_branches(server):
    mkrepo(server)
    put(server, "sales", "main", "a", b"1")
    c = commit(server, "sales", "main")
    server.api("POST", "/api/v1/repositories/sales/tags", json={"name": "v1", "ref": "main"})
    r = put(server, "sales", "v1", "a", b"2")
    assert r.status_code == 400 and "is a tag" in error(r)[1]
    r = put(server, "sales", c["id"], "a", b"2")
    assert r.status_code == 404
    r = put(server, "sales", "nobranch", "a", b"2")
    assert r.status_code == 404 and "branch 'nobranch' not found" in error(r)[1]
    # The failed writes left nothing behind.
    assert get(server, "sales", "main", "a").content == b"1"


def test_object_round_trip_with_metadata_ranges_and_head(server):
    mkrepo(server)
    data = bytes(range(256)) * 100
    r = put(server, "sales", "main", "bin/data.bin", data,
            {"Content-Type": "application/x-test", "X-Lakemesh-Meta-Owner": "alice"})
    assert r.status_code == 201
    info = r.json()
    assert info["size"] == len(data)
    import hashlib
    assert info["etag"] == hashlib.md5(data).hexdigest()
    g = get(server, "sales", "main", "bin/data.bin")
    assert g.content == data
    assert g.headers["Content-Type"] == "application/x-test"
    assert g.headers["ETag"] == '"%s"' % info["etag"]
    assert g.headers["X-Lakemesh-Meta-owner"] == "alice"
    g = get(server, "sales", "main", "bin/data.bin", {"Range": "bytes=100-199"})
    assert g.status_code == 206 and g.content == data[100:200]
    assert g.headers["Content-Range"] == "bytes 100-199/%d" % len(data)
    g = get(server, "sales", "main", "bin/data.bin", {"Range": "bytes=-10"})
    assert g.content == data[-10:]
    g = get(server, "sales", "main", "bin/data.bin", {"Range": "bytes=999999-"})
    assert g.status_code == 416
    h = server.api("HEAD", "/api/v1/repositories/sales/refs/main/objects",
                   params={"path": "bin/data.bin"})
    assert h.status_code == 200 and h.headers["Content-Length"] == str(len(data))
    assert h.content == b""
    assert get(server, "sales", "main", "missing").status_code == 404


def test_listing_pagination_and_delimiter(server):
    mkrepo(server)
    names = ["p/%03d.csv" % i for i in range(25)] + ["q/a", "q/b/c", "top"]
    for n in names:
        put(server, "sales", "main", n, n.encode())
    commit(server, "sales", "main")
    seen, after = [], ""
    while True:
        r = server.api("GET", "/api/v1/repositories/sales/refs/main/objects/ls",
                       params={"limit": 7, "after": after}).json()
        seen += [o["path"] for o in r["results"]]
        if not r["pagination"]["has_more"]:
            break
        after = r["pagination"]["next_after"]
    assert seen == sorted(names)
    r = server.api("GET", "/api/v1/repositories/sales/refs/main/objects/ls",
                   params={"delimiter": "/"}).json()
    assert [(o["type"], o["path"]) for o in r["results"]] == [
        ("prefix", "p/"), ("prefix", "q/"), ("object", "top")]


def test_log_diff_and_time_travel(server):
    mkrepo(server)
    ids = []
    for i in range(3):
        put(server, "sales", "main", "f", str(i).encode())
        put(server, "sales", "main", "g%d" % i, b"x")
        ids.append(commit(server, "sales", "main", "c%d" % i))
    log = server.api("GET", "/api/v1/repositories/sales/refs/main/commits",
                     params={"limit": 2}).json()
    assert [c["message"] for c in log["results"]] == ["c2", "c1"]
    assert log["pagination"]["has_more"]
    rest = server.api("GET", "/api/v1/repositories/sales/refs/main/commits",
                      params={"after": log["pagination"]["next_after"]}).json()
    assert [c["message"] for c in rest["results"]] == ["c0", "Repository created"]
    only_g1 = server.api("GET", "/api/v1/repositories/sales/refs/main/commits",
                         params={"path": "g1"}).json()
    assert [c["message"] for c in only_g1["results"]] == ["c1"]
    d = server.api("GET", "/api/v1/repositories/sales/refs/main~2/diff/main").json()
    assert [(c["type"], c["path"]) for c in d["results"]] == [
        ("changed", "f"), ("added", "g1"), ("added", "g2")]
    at = "main@{%s}" % ids[1]["created"]
    assert get(server, "sales", at, "f").content == b"1"
    assert get(server, "sales", ids[0]["id"][:10], "f").content == b"0"
    assert get(server, "sales", "main^", "f").content == b"1"


def test_merge_conflict_reports_paths(server):
    mkrepo(server)
    put(server, "sales", "main", "x", b"base")
    commit(server, "sales", "main")
    server.api("POST", "/api/v1/repositories/sales/branches", json={"name": "dev"})
    put(server, "sales", "dev", "x", b"dev")
    commit(server, "sales", "dev")
    put(server, "sales", "main", "x", b"main")
    commit(server, "sales", "main")
    r = server.api("POST", "/api/v1/repositories/sales/refs/dev/merge/main", json={})
    assert r.status_code == 409
    assert r.json()["conflicts"] == ["x"]
    r = server.api("POST", "/api/v1/repositories/sales/refs/dev/merge/main",
                   json={"strategy": "dest-wins"})
    assert r.status_code == 201
    assert get(server, "sales", "main", "x").content == b"main"
    r = server.api("POST", "/api/v1/repositories/sales/refs/dev/merge/main",
                   json={"strategy": "nope"})
    assert r.status_code == 400


def test_unknown_routes_and_methods(server):
    r = server.api("GET", "/api/v1/nothing-here")
    assert r.status_code == 404 and error(r)[0] == "NotFound"
    r = server.api("PATCH", "/api/v1/repositories")
    assert r.status_code == 405
