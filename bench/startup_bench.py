#!/usr/bin/python3
"""Start-to-healthy time and idle resident memory of `lakemesh serve`, with nginx as the reference.

    bench/startup_bench.py [--runs N] [--bin build/lakemesh]

Start-to-healthy: from spawning the process to the first 200 from GET /healthz (for nginx: from
spawning to the first 200 for a static file), polled every 2 ms. Medians over the runs. Idle
memory: VmRSS one second after becoming healthy, on a fresh data directory and with the demo mesh.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

from bench_util import free_port


def wait_http(port, path, deadline):
    req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode()
    while time.perf_counter() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(req)
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return True
        except OSError:
            pass
        time.sleep(0.002)
    return False


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def lakemesh_once(binary, data, demo):
    port = free_port()
    env = dict(os.environ, LAKEMESH_ACCESS_KEY_ID="LMBENCHKEY0000000001",
               LAKEMESH_SECRET_ACCESS_KEY="bench-secret-000000000000000000000000",
               LAKEMESH_CONFIG=os.path.join(data, "..", "cli.json"))
    args = [binary, "serve", "--data", data, "--http", "127.0.0.1:%d" % port,
            "--s3", "127.0.0.1:0", "--pg", "127.0.0.1:0", "--log-level", "warn"]
    if demo:
        args.append("--demo")
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    ok = wait_http(port, "/healthz", t0 + 10)
    ms = (time.perf_counter() - t0) * 1000
    time.sleep(1.0)
    rss = rss_kib(p.pid)
    p.send_signal(signal.SIGTERM)
    p.wait()
    if not ok:
        raise SystemExit("lakemesh did not become healthy")
    return ms, rss


def nginx_once(root):
    port = free_port()
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off; master_process off; worker_processes 1; pid %s/nginx.pid;\n"
                "error_log %s/error.log; events {}\n"
                "http { access_log off; server { listen 127.0.0.1:%d; root %s; } }\n"
                % (root, root, port, root))
    t0 = time.perf_counter()
    p = subprocess.Popen(["nginx", "-c", conf, "-p", root], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    ok = wait_http(port, "/index.html", t0 + 10)
    ms = (time.perf_counter() - t0) * 1000
    time.sleep(1.0)
    rss = rss_kib(p.pid)
    p.send_signal(signal.SIGQUIT)
    p.wait()
    if not ok:
        raise SystemExit("nginx did not serve")
    return ms, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                   "lakemesh"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="lakemesh-startup-")
    try:
        fresh, restart, demo_first, demo_rss, fresh_rss = [], [], [], [], []
        for i in range(a.runs):
            d = os.path.join(work, "fresh%d" % i, "data")
            ms, rss = lakemesh_once(a.bin, d, False)
            fresh.append(ms)
            fresh_rss.append(rss)
            ms, _ = lakemesh_once(a.bin, d, False)
            restart.append(ms)
            dd = os.path.join(work, "demo%d" % i, "data")
            ms, rss = lakemesh_once(a.bin, dd, True)
            demo_first.append(ms)
            demo_rss.append(rss)
        ng, ng_rss = [], []
        have_nginx = shutil.which("nginx") is not None
        if have_nginx:
            root = os.path.join(work, "nginx")
            os.makedirs(root)
            open(os.path.join(root, "index.html"), "w").write("ok\n")
            for _ in range(a.runs):
                ms, rss = nginx_once(root)
                ng.append(ms)
                ng_rss.append(rss)
        med = statistics.median
        ref = med(ng) if ng else None
        rows = [
            ("start to healthy, new data directory", med(fresh), "< 300 ms"),
            ("start to healthy, existing data directory", med(restart), "< 300 ms"),
            ("start to healthy, new directory + demo mesh", med(demo_first), "< 300 ms"),
        ]
        print("%-46s %10s %9s %12s %7s" % ("figure (median of %d)" % a.runs, "lakemesh", "target",
                                           "nginx", "ratio"))
        for name, v, target in rows:
            print("%-46s %7.1f ms %9s %12s %7s" % (
                name, v, target, ("%.1f ms" % ref) if ref else "-",
                ("%.2f" % (v / ref)) if ref else "-"))
        rref = med(ng_rss) / 1024 if ng_rss else None
        for name, v in [("idle resident memory, new data directory", med(fresh_rss) / 1024),
                        ("idle resident memory, with demo mesh", med(demo_rss) / 1024)]:
            print("%-46s %7.1f MB %9s %12s %7s" % (
                name, v, "< 100 MB", ("%.1f MB" % rref) if rref else "-",
                ("%.2f" % (v / rref)) if rref else "-"))
        print("\nratio = lakemesh / nginx (one worker, no master), started and polled the same way.")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
