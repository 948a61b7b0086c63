"""Races and crashes: no acknowledged write is ever lost or half-visible."""
import hashlib
import os
import random
import signal
import threading
import time

import boto3
import botocore
import requests
from botocore.config import Config

from conftest import KEY_ID, SECRET, Server

AUTH = (KEY_ID, SECRET)


def kill_while_running(server, threads, stop, seconds):
    """Runs the client threads for `seconds`, kills the server with SIGKILL, then stops them."""
    for t in threads:
        t.start()
    time.sleep(seconds)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    stop.set()
    for t in threads:
        t.join()


def test_racing_commits_never_lose_work(server):
    server.api("POST", "/api/v1/repositories", json={"name": "race"})
    base = server.url + "/api/v1/repositories/race/branches/main"
    conflicts = []
    errors = []

    def writer(w):
        s = requests.Session()
        s.auth = AUTH
        for i in range(15):
            path = "w%d/%02d" % (w, i)
            r = s.put(base + "/objects", params={"path": path}, data=path.encode())
            if r.status_code != 201:
                errors.append(r.text)
                return
            while True:
                r = s.post(base + "/commits", json={"message": path, "allow_empty": True})
                if r.status_code == 201:
                    break
                if r.status_code == 409:
                    conflicts.append(r.json()["error"]["message"])
                    continue
                errors.append(r.text)
                return

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    listing = server.api("GET", "/api/v1/repositories/race/refs/main~0/objects/ls").json()
    assert len(listing["results"]) == 60
    for c in conflicts:
        assert "retry" in c


def test_sigkill_during_uploads_and_commits_keeps_every_acknowledged_write(workdir):
    data_dir = os.path.join(workdir, "data")
    server = Server(data_dir).start()
    server.api("POST", "/api/v1/repositories", json={"name": "crash"})
    base = server.url + "/api/v1/repositories/crash/branches/main"
    acked = {}         # path -> sha256 of content the server acknowledged (201)
    committed = set()  # paths acknowledged before a commit that was acknowledged
    lock = threading.Lock()
    stop = threading.Event()

    def uploader(w):
        s = requests.Session()
        s.auth = AUTH
        rnd = random.Random(w)
        i = 0
        while not stop.is_set():
            path = "w%d/%05d.bin" % (w, i)
            body = os.urandom(rnd.choice([10, 1000, 100000, 700000]))
            try:
                r = s.put(base + "/objects", params={"path": path}, data=body, timeout=10)
            except requests.RequestException:
                return
            if r.status_code == 201:
                with lock:
                    acked[path] = hashlib.sha256(body).hexdigest()
            i += 1

    def committer():
        s = requests.Session()
        s.auth = AUTH
        while not stop.is_set():
            with lock:
                before = set(acked)
            try:
                r = s.post(base + "/commits", json={"message": "batch", "allow_empty": True},
                           timeout=10)
            except requests.RequestException:
                return
            if r.status_code == 201:
                with lock:
                    committed.update(before)

    threads = [threading.Thread(target=uploader, args=(w,)) for w in range(3)]
    threads.append(threading.Thread(target=committer))
    kill_while_running(server, threads, stop, 2.5)
    assert len(acked) > 20 and committed

    server.start()
    try:
        # Every acknowledged object is readable on the branch with exactly its bytes.
        for path, digest in acked.items():
            r = server.api("GET", "/api/v1/repositories/crash/refs/main/objects",
                           params={"path": path})
            assert r.status_code == 200, path
            assert hashlib.sha256(r.content).hexdigest() == digest, path
        # Everything committed before an acknowledged commit is in the committed tree.
        listing, after = set(), ""
        while True:
            r = server.api("GET", "/api/v1/repositories/crash/refs/main~0/objects/ls",
                           params={"after": after}).json()
            listing.update(o["path"] for o in r["results"])
            if not r["pagination"]["has_more"]:
                break
            after = r["pagination"]["next_after"]
        assert committed <= listing
        # Nothing half-visible: whatever is listed on the branch reads back whole.
        r = server.api("GET", "/api/v1/repositories/crash/refs/main/objects/ls",
                       params={"limit": 10000}).json()
        for o in r["results"]:
            g = server.api("GET", "/api/v1/repositories/crash/refs/main/objects",
                           params={"path": o["path"]})
            assert g.status_code == 200 and len(g.content) == o["size"]
            assert hashlib.md5(g.content).hexdigest() == o["etag"]
        # No temp files survive a restart.
        assert os.listdir(os.path.join(data_dir, "blobs", ".tmp")) == []
        # And the repository keeps working.
        assert server.api("POST", "/api/v1/repositories/crash/branches/main/commits",
                          json={"message": "after crash", "allow_empty": True}).status_code == 201
    finally:
        server.stop()


def test_sigkill_during_s3_puts_keeps_every_acknowledged_object(workdir):
    """Plain-bucket PutObjects over S3: small ones are answered by the event loop once their
    metadata commit is done, large ones by a worker. A kill -9 in the middle of many of both
    loses none that got a 200, and leaves none half-visible."""
    data_dir = os.path.join(workdir, "data")
    server = Server(data_dir).start()

    def client():
        return boto3.client("s3", endpoint_url="http://" + server.ports["s3"],
                            aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                            region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}, connect_timeout=2,
                                          read_timeout=10))

    client().create_bucket(Bucket="land")
    acked = {}  # key -> md5 of the bytes the server acknowledged
    bad_etags = []
    lock = threading.Lock()
    stop = threading.Event()

    def uploader(w):
        s3 = client()
        rnd = random.Random(w)
        i = 0
        while not stop.is_set():
            key = "w%d/%05d" % (w, i % 150)  # overwrites too
            body = os.urandom(rnd.choice([0, 10, 4096, 60000, 200000]))
            try:
                r = s3.put_object(Bucket="land", Key=key, Body=body)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                return
            with lock:
                acked[key] = hashlib.md5(body).hexdigest()
                if r["ETag"].strip('"') != acked[key]:
                    bad_etags.append(key)
            i += 1

    threads = [threading.Thread(target=uploader, args=(w,)) for w in range(8)]
    kill_while_running(server, threads, stop, 2.0)
    assert len(acked) > 50 and not bad_etags

    server.start()
    try:
        s3 = client()
        # Every acknowledged object reads back with the bytes of its last acknowledged PUT, or
        # of a later PUT that was in flight at the kill (its key's next write).
        listed = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="land"):
            for o in page.get("Contents", []):
                listed[o["Key"]] = (o["Size"], o["ETag"].strip('"'))
        for key in acked:
            assert key in listed, key
        for key, (size, etag) in listed.items():
            body = s3.get_object(Bucket="land", Key=key)["Body"].read()
            assert len(body) == size and hashlib.md5(body).hexdigest() == etag, key
        lost = [k for k, md5 in acked.items() if listed[k][1] != md5]
        # A key whose stored version differs from the last acknowledged one can only be the
        # one PUT per uploader that was in flight when the server died.
        assert len(lost) <= len(threads), lost
        assert os.listdir(os.path.join(data_dir, "blobs", ".tmp")) == []
    finally:
        server.stop()


def test_sigkill_right_after_a_large_commit_keeps_it(workdir):
    """A commit big enough that its tree nodes go to a pack blob survives a SIGKILL right after it
    is acknowledged: the pack was durable before the commit's metadata referred to it."""
    data_dir = os.path.join(workdir, "data")
    server = Server(data_dir).start()
    server.api("POST", "/api/v1/repositories", json={"name": "bulk"})
    base = server.url + "/api/v1/repositories/bulk/branches/main"
    s = requests.Session()
    s.auth = AUTH
    n = 4000
    for i in range(n):
        r = s.put(base + "/objects", params={"path": "p/%05d-%s.csv" % (i, "x" * 40)},
                  data=b"%d" % i)
        assert r.status_code == 201
    r = s.post(base + "/commits", json={"message": "bulk"})
    assert r.status_code == 201, r.text
    commit_id = r.json()["id"]
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    packs = [f for _, _, fs in os.walk(os.path.join(data_dir, "blobs", "packs")) for f in fs]
    assert packs, "the commit was expected to write its nodes to a pack"
    server.start()
    try:
        got, after = [], ""
        while True:
            page = server.api("GET", "/api/v1/repositories/bulk/refs/%s/objects/ls" % commit_id,
                              params={"after": after, "limit": 1000}).json()
            got += [o["path"] for o in page["results"]]
            if not page["pagination"]["has_more"]:
                break
            after = page["pagination"]["next_after"]
        assert len(got) == n
        r = server.api("GET", "/api/v1/repositories/bulk/refs/main/objects",
                       params={"path": "p/01234-%s.csv" % ("x" * 40)})
        assert r.content == b"1234"
    finally:
        server.stop()
