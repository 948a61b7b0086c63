#!/usr/bin/env python3
"""S3 throughput and memory, each beside its baseline measured in the same run:

  GET 1 GiB        lakemesh vs nginx serving the same bytes from the same disk (curl to /dev/null)
  PUT 1 GiB        lakemesh (curl -T, unsigned payload) vs dd ... conv=fsync of the same file
  GET 4 KiB x32    lakemesh vs nginx static files, wrk with 32 connections
  PUT 4 KiB x32    lakemesh vs s3rver (npm), the same wrk client
  RSS              lakemesh's resident memory while 32 clients each stream a 1 GiB object

Every client request to lakemesh is signed (presigned SigV4 URLs, made with boto3). Medians over
--runs runs. Needs nginx, wrk and curl (scripts/install-deps.sh --bench) and bench/node for s3rver.
moto_server is not packaged for Debian 12 and PyPI is not reachable here, so it is not run.

  /usr/bin/python3 bench/s3_bench.py --bin build/lakemesh [--size-mib 1024] [--runs 3]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config

from bench_util import KEY, SECRET, free_port, start_lakemesh, start_nginx, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))


def s3client(port, key=KEY, secret=SECRET):
    return boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % port, aws_access_key_id=key,
                        aws_secret_access_key=secret, region_name="us-east-1",
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


def curl_time(args):
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{time_total} %{http_code}"] + args,
                         capture_output=True, text=True, check=True).stdout.split()
    if out[1] not in ("200", "204"):
        raise RuntimeError("curl got HTTP %s" % out[1])
    return float(out[0])


def wrk_ops(urls_file, base, method, seconds, conns=32):
    script = os.path.join(HERE, "wrk_urls.lua")
    env = dict(os.environ, URLS=urls_file, METHOD=method)
    out = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "-s", script, base],
                         capture_output=True, text=True, env=env, check=True).stdout
    ops = float([l for l in out.splitlines() if l.startswith("Requests/sec")][0].split()[1])
    bad = [l for l in out.splitlines() if "Non-2xx" in l]
    if bad:
        raise RuntimeError("wrk saw errors: " + bad[0])
    return ops


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def median(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "lakemesh"))
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--small", type=int, default=2000, help="number of 4 KiB objects")
    ap.add_argument("--dir", default=None, help="scratch directory (default: beside the checkout)")
    args = ap.parse_args()
    for tool in ("nginx", "wrk", "curl"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            sys.exit("s3_bench: %s is not installed (scripts/install-deps.sh --bench)" % tool)
    # The scratch directory is on the same disk as the checkout, for lakemesh, nginx and dd alike.
    scratch = tempfile.mkdtemp(prefix="s3bench-", dir=args.dir or os.path.join(HERE, "..", "build"))
    os.chmod(scratch, 0o755)  # nginx's workers run as an unprivileged user
    procs = []
    try:
        run(args, scratch, procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(scratch, ignore_errors=True)


def run(args, scratch, procs):
    size = args.size_mib << 20
    results = {}
    big = os.path.join(scratch, "big.bin")
    with open(big, "wb") as f:
        chunk = os.urandom(1 << 20)
        for _ in range(args.size_mib):
            f.write(chunk)

    # --- servers ---
    s3p = start_lakemesh(args.bin, scratch, procs)["s3"]
    lm = procs[-1]
    www = os.path.join(scratch, "www")
    os.makedirs(os.path.join(www, "small"))
    ngp = start_nginx(scratch, www, procs)
    s3 = s3client(s3p)
    s3.create_bucket(Bucket="bench")

    # --- PUT 1 GiB vs dd conv=fsync ---
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bench", "Key": "big.bin"},
                                        ExpiresIn=3600)
    lm_put, dd = [], []
    for _ in range(args.runs):
        out = os.path.join(scratch, "dd.out")
        t = time.time()
        subprocess.run(["dd", "if=" + big, "of=" + out, "bs=1M", "conv=fsync"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dd.append(size / (time.time() - t) / 1e6)
        os.unlink(out)
        lm_put.append(size / curl_time(["-T", big, put_url]) / 1e6)
    results["put_1gib"] = (median(lm_put), median(dd))

    # --- GET 1 GiB vs nginx (the same bytes, copied to nginx's root on the same disk) ---
    shutil.copy(big, os.path.join(www, "big.bin"))
    os.chmod(os.path.join(www, "big.bin"), 0o644)
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "big.bin"},
                                        ExpiresIn=3600)
    curl_time([get_url])
    curl_time(["http://127.0.0.1:%d/big.bin" % ngp])  # warm both
    lm_get, ng_get = [], []
    for _ in range(args.runs):
        lm_get.append(size / curl_time([get_url]) / 1e6)
        ng_get.append(size / curl_time(["http://127.0.0.1:%d/big.bin" % ngp]) / 1e6)
    results["get_1gib"] = (median(lm_get), median(ng_get))

    # --- 4 KiB objects, 32 connections ---
    small = os.urandom(4096)
    lm_urls, ng_urls, put_urls = [], [], []
    for i in range(args.small):
        key = "small/%05d" % i
        s3.put_object(Bucket="bench", Key=key, Body=small)
        with open(os.path.join(www, key), "wb") as f:
            f.write(small)
        os.chmod(os.path.join(www, key), 0o644)
        u = s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": key}, ExpiresIn=3600)
        lm_urls.append(u.split(str(s3p), 1)[1])
        ng_urls.append("/" + key)
        u = s3.generate_presigned_url("put_object", Params={"Bucket": "bench", "Key": "put/%05d" % i},
                                      ExpiresIn=3600)
        put_urls.append(u.split(str(s3p), 1)[1])
    files = {}
    for name, urls in (("lm_get", lm_urls), ("ng_get", ng_urls), ("lm_put", put_urls)):
        files[name] = os.path.join(scratch, name + ".txt")
        with open(files[name], "w") as f:
            f.write("\n".join(urls) + "\n")
    # s3rver takes the same PUTs; its rounds alternate with lakemesh's so that both see the same
    # machine (it is shared and its load moves from minute to minute).
    s3rver = os.path.join(HERE, "node", "node_modules", ".bin", "s3rver")
    sr_file = None
    if os.path.exists(s3rver):
        sp = free_port()
        srv = subprocess.Popen([s3rver, "-d", os.path.join(scratch, "s3rver"), "-p", str(sp),
                                "-a", "127.0.0.1", "--silent"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(srv)
        wait_port(sp)
        sc = s3client(sp, "S3RVER", "S3RVER")
        sc.create_bucket(Bucket="bench")
        urls = [sc.generate_presigned_url("put_object", Params={"Bucket": "bench", "Key": "put/%05d" % i},
                                          ExpiresIn=3600).split(str(sp), 1)[1] for i in range(args.small)]
        sr_file = os.path.join(scratch, "s3rver_put.txt")
        with open(sr_file, "w") as fh:
            fh.write("\n".join(urls) + "\n")
    # The 1 GiB files above leave dirty pages behind; write them out first, so that their
    # writeback does not land in lakemesh's fsyncs (s3rver does not fsync).
    os.sync()
    lm_ops, ng_ops, lm_put_ops, sr_ops = [], [], [], []
    for _ in range(args.runs):
        lm_ops.append(wrk_ops(files["lm_get"], "http://127.0.0.1:%d" % s3p, "GET", args.seconds))
        ng_ops.append(wrk_ops(files["ng_get"], "http://127.0.0.1:%d" % ngp, "GET", args.seconds))
        lm_put_ops.append(wrk_ops(files["lm_put"], "http://127.0.0.1:%d" % s3p, "PUT", args.seconds))
        if sr_file:
            sr_ops.append(wrk_ops(sr_file, "http://127.0.0.1:%d" % sp, "PUT", args.seconds))
    results["get_4kib"] = (median(lm_ops), median(ng_ops))
    results["put_4kib_s3rver"] = (median(lm_put_ops), median(sr_ops) if sr_file else None)
    if sr_file:
        srv.terminate()

    # --- memory: 32 clients streaming 1 GiB each, down and then up ---
    def peak_during(cmds):
        ps = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in cmds]
        peak = 0.0
        while any(p.poll() is None for p in ps):
            peak = max(peak, rss_mib(lm.pid))
            time.sleep(0.05)
        if any(p.returncode != 0 for p in ps):
            raise RuntimeError("a streaming client failed")
        return peak
    idle = rss_mib(lm.pid)
    down = peak_during([["curl", "-sS", "-o", "/dev/null", get_url]] * 32)
    ups = []
    for i in range(32):
        u = s3.generate_presigned_url("put_object", Params={"Bucket": "bench", "Key": "up/%d" % i}, ExpiresIn=3600)
        ups.append(["curl", "-sS", "-f", "-o", "/dev/null", "-T", big, u])
    up = peak_during(ups)
    results["rss"] = (idle, down, up)

    mib = args.size_mib
    print("S3 benchmark: %d MiB objects, %d x 4 KiB objects, medians of %d runs" % (mib, args.small, args.runs))
    a, b = results["get_1gib"]
    print("  GET %4d MiB        lakemesh %8.0f MB/s   nginx %8.0f MB/s      ratio %.2f (goal >= 0.9)" % (mib, a, b, a / b))
    a, b = results["put_1gib"]
    print("  PUT %4d MiB        lakemesh %8.0f MB/s   dd fsync %5.0f MB/s      ratio %.2f (goal >= 0.8)" % (mib, a, b, a / b))
    a, b = results["get_4kib"]
    print("  GET 4 KiB, 32 conn  lakemesh %8.0f ops/s nginx %8.0f ops/s    ratio %.2f (goal >= 0.8)" % (a, b, a / b))
    a, b = results["put_4kib_s3rver"]
    if b:
        print("  PUT 4 KiB, 32 conn  lakemesh %8.0f ops/s s3rver %7.0f ops/s    ratio %.1f (goal >= 10)" % (a, b, a / b))
    else:
        print("  PUT 4 KiB, 32 conn  lakemesh %8.0f ops/s (s3rver not installed: npm install in bench/node)" % a)
    idle, down, up = results["rss"]
    print("  RSS: idle %.0f MiB; peak with 32 x %d MiB downloads %.0f MiB, uploads %.0f MiB (goal < 300 MB)"
          % (idle, mib, down, up))
    print(json.dumps({k: v for k, v in results.items()}))


if __name__ == "__main__":
    main()
