"""Operations: health, metrics, credentials, files on disk, shutdown, the other ports."""
import json
import os
import socket
import stat
import subprocess
import threading
import time

import requests

from conftest import BIN, Server


def test_health_and_metrics_need_no_credentials(server):
    assert requests.get(server.url + "/healthz").json() == {"status": "ok"}
    server.api("GET", "/api/v1/repositories")
    server.api("POST", "/api/v1/repositories", json={"name": "m-test"})
    server.api("PUT", "/api/v1/repositories/m-test/branches/main/objects", params={"path": "a"},
               data=b"12345")
    server.api("POST", "/api/v1/repositories/m-test/branches/main/commits", json={"message": "m"})
    text = requests.get(server.url + "/metrics").text
    assert 'lakemesh_http_requests_total{api="http",method="GET",status="200"}' in text
    assert 'lakemesh_http_request_duration_seconds_bucket{api="http",le="+Inf"}' in text
    assert "lakemesh_commits_total 1" in text
    assert 'lakemesh_open_connections{api="http"}' in text
    assert "process_resident_memory_bytes" in text
    in_bytes = [l for l in text.splitlines() if l.startswith("lakemesh_http_request_bytes_total")]
    assert in_bytes and int(in_bytes[0].split()[-1]) >= 5


def test_ports_file_and_private_data(server):
    ports = json.load(open(os.path.join(server.data_dir, "ports.json")))
    assert set(ports) == {"http", "s3", "pg"}
    for addr in ports.values():
        host, port = addr.rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
    assert stat.S_IMODE(os.stat(server.data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(server.data_dir, "meta.db")).st_mode) == 0o600


def test_generated_key_is_printed_once(workdir):
    data = os.path.join(workdir, "gen")
    env = {"LAKEMESH_ACCESS_KEY_ID": "", "LAKEMESH_SECRET_ACCESS_KEY": ""}
    s = Server(data, env=env)
    s.env.pop("LAKEMESH_ACCESS_KEY_ID")
    s.env.pop("LAKEMESH_SECRET_ACCESS_KEY")
    s.start()
    s.stop()
    out = open(os.path.join(workdir, "server.log")).read()
    lines = [l for l in out.splitlines() if "export LAKEMESH_SECRET_ACCESS_KEY=" in l]
    assert len(lines) == 1
    key = [l for l in out.splitlines() if "export LAKEMESH_ACCESS_KEY_ID=" in l][0].split("=")[1]
    secret = lines[0].split("=")[1]
    cfg = json.load(open(s.env["LAKEMESH_CONFIG"]))
    assert cfg["access_key_id"] == key and cfg["secret_access_key"] == secret
    assert stat.S_IMODE(os.stat(s.env["LAKEMESH_CONFIG"]).st_mode) == 0o600
    s.start()  # second start: nothing generated, nothing printed again
    r = requests.get(s.url + "/api/v1/auth/whoami", auth=(key, secret))
    assert r.status_code == 200
    s.stop()
    out = open(os.path.join(workdir, "server.log")).read()
    assert len([l for l in out.splitlines() if "LAKEMESH_SECRET_ACCESS_KEY=" in l]) == 1
    # The CLI finds the server and key through the config file alone.
    s.start()
    env2 = {k: v for k, v in os.environ.items() if not k.startswith("LAKEMESH_")}
    env2["LAKEMESH_CONFIG"] = s.env["LAKEMESH_CONFIG"]
    cfg["url"] = s.url
    json.dump(cfg, open(s.env["LAKEMESH_CONFIG"], "w"))
    r = subprocess.run([BIN, "repo", "list"], env=env2, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("NAME"), r.stderr
    s.stop()


def test_keys_and_tokens(server):
    created = json.loads(server.cli("--json", "keys", "create", "--owner", "alice",
                                    "--description", "laptop").stdout)
    kid, secret = created["access_key_id"], created["secret_access_key"]
    r = requests.get(server.url + "/api/v1/auth/whoami", auth=(kid, secret))
    assert r.json() == {"name": "alice", "access_key_id": kid,
                        "listeners": {"http": server.ports["http"], "s3": server.ports["s3"],
                                      "pg": server.ports["pg"]}}
    keys = json.loads(server.cli("--json", "keys", "list").stdout)
    assert {k["owner"] for k in keys} == {"admin", "alice"}
    assert all("secret_access_key" not in k for k in keys)
    tok = requests.post(server.url + "/api/v1/auth/tokens", auth=(kid, secret),
                        json={"ttl_seconds": 60}).json()["token"]
    r = requests.get(server.url + "/api/v1/auth/whoami",
                     headers={"Authorization": "Bearer " + tok})
    assert r.status_code == 200 and r.json()["name"] == "alice"
    server.cli("keys", "revoke", kid)
    assert requests.get(server.url + "/api/v1/auth/whoami", auth=(kid, secret)).status_code == 401
    r = requests.get(server.url + "/api/v1/auth/whoami",
                     headers={"Authorization": "Bearer " + tok})
    assert r.status_code == 401
    # Both old and new keys work at the same time; revoking the last one is refused.
    r = server.cli("keys", "revoke", "LMTESTADMINKEY000001", check=False)
    assert r.returncode == 1 and "last one" in r.stderr


def test_gc_removes_only_unreachable_blobs(server, workdir):
    cli = server.cli
    cli("repo", "create", "gc-test")
    f = os.path.join(workdir, "f")
    for content in [b"v1", b"v2"]:
        open(f, "wb").write(content)
        cli("cp", f, "lakemesh://gc-test/main/f")
        cli("commit", "gc-test", "main", "-m", content.decode())
    cli("branch", "create", "gc-test", "tmp")
    open(f, "wb").write(b"only on tmp")
    cli("cp", f, "lakemesh://gc-test/tmp/t")
    cli("commit", "gc-test", "tmp", "-m", "tmp")
    cli("branch", "delete", "gc-test", "tmp")
    open(f, "wb").write(b"staged")
    cli("cp", f, "lakemesh://gc-test/main/s")
    dry = json.loads(cli("--json", "gc", "--retention", "0s", "--grace", "0s", "--dry-run").stdout)
    assert dry["blobs_deleted"] == 2 and dry["dry_run"]
    r = json.loads(cli("--json", "gc", "--retention", "0s", "--grace", "0s").stdout)
    assert r["blobs_deleted"] == 2
    assert cli("cat", "lakemesh://gc-test/main/f").stdout == "v2"
    assert cli("cat", "lakemesh://gc-test/main/s").stdout == "staged"
    # Within the grace period nothing is deleted, even when unreachable.
    r = json.loads(cli("--json", "gc", "--retention", "0s").stdout)
    assert r["blobs_deleted"] == 0


def test_graceful_shutdown_finishes_in_flight_upload(server):
    server.api("POST", "/api/v1/repositories", json={"name": "slow"})
    host, port = server.ports["http"].rsplit(":", 1)
    import base64
    auth = base64.b64encode(b"LMTESTADMINKEY000001:test-secret-0123456789abcdefghijklmnopqrs")
    sock = socket.create_connection((host, int(port)))
    body = b"x" * 200000
    sock.sendall(b"PUT /api/v1/repositories/slow/branches/main/objects?path=big HTTP/1.1\r\n"
                 b"Host: x\r\nAuthorization: Basic " + auth +
                 b"\r\nContent-Length: %d\r\n\r\n" % len(body))
    sock.sendall(body[:1000])
    time.sleep(0.3)
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    time.sleep(0.5)
    # The server is draining: no new connections, but this request still completes.
    sock.sendall(body[1000:])
    resp = b""
    while b"\r\n\r\n" not in resp:
        chunk = sock.recv(65536)
        if not chunk:
            break
        resp += chunk
    assert resp.startswith(b"HTTP/1.1 201"), resp[:200]
    stopper.join()
    assert server.proc.returncode == 0
    # The acknowledged upload is there after a restart.
    server.start()
    r = server.api("GET", "/api/v1/repositories/slow/refs/main/objects", params={"path": "big"})
    assert r.content == body


def test_running_out_of_descriptors_neither_spins_nor_dies(workdir):
    import resource

    def low_fd_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (96, 96))

    s = Server(os.path.join(workdir, "data"), preexec_fn=low_fd_limit).start()
    try:
        host, port = s.ports["http"].rsplit(":", 1)
        socks = []
        for _ in range(150):  # more idle connections than the server has descriptors
            try:
                socks.append(socket.create_connection((host, int(port)), timeout=2))
            except OSError:
                break
        time.sleep(0.5)
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu_seconds():
            fields = open("/proc/%d/stat" % s.proc.pid).read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks

        before = cpu_seconds()
        time.sleep(1.0)
        assert cpu_seconds() - before < 0.5, "the accept loop spins while out of descriptors"
        for sk in socks:
            sk.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if requests.get(s.url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        assert requests.get(s.url + "/healthz", timeout=2).status_code == 200
        assert s.proc.poll() is None
    finally:
        s.stop()


def test_second_server_on_same_data_dir_is_refused(server):
    r = subprocess.run([BIN, "serve", "--data", server.data_dir, "--http", "127.0.0.1:0",
                        "--s3", "127.0.0.1:0", "--pg", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30, env=server.env)
    assert r.returncode == 1
    assert "in use by another lakemesh process" in r.stderr


def test_port_in_use_is_a_clear_error(server, workdir):
    r = subprocess.run([BIN, "serve", "--data", os.path.join(workdir, "other"), "--http",
                        server.ports["http"], "--s3", "127.0.0.1:0", "--pg", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30, env=server.env)
    assert r.returncode == 1
    assert "cannot listen on" in r.stderr and "Address already in use" in r.stderr


def test_s3_and_pg_ports_answer_in_their_protocols(server):
    r = requests.get("http://" + server.ports["s3"] + "/")
    assert r.status_code == 403
    assert "<Code>AccessDenied</Code>" in r.text and r.headers["Content-Type"] == "application/xml"
    host, port = server.ports["pg"].rsplit(":", 1)
    p = subprocess.run(["psql", "-h", host, "-p", port, "-U", "x", "-c", "select 1"],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, PGCONNECT_TIMEOUT="5", PGPASSWORD="x"))
    assert p.returncode != 0
    assert 'password authentication failed for user "x"' in p.stderr


def test_help_and_version():
    r = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for cmd in ["serve", "repo", "branch", "tag", "commit", "log", "diff", "merge", "cp", "gc"]:
        assert cmd in r.stdout
    r = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True)
    assert "--data" in r.stdout and "--demo" in r.stdout
    r = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    assert "lakemesh 0.1.0" in r.stdout and "DuckDB v1.4.4" in r.stdout
