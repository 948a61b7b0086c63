"""Fixtures that run the real lakemesh binary on loopback with a temporary data directory."""
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest
import requests

BIN = os.environ.get("LAKEMESH_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "lakemesh")
KEY_ID = "LMTESTADMINKEY000001"
SECRET = "test-secret-0123456789abcdefghijklmnopqrs"


class Server:
    """A running `lakemesh serve` process."""

    def __init__(self, data_dir, extra_args=(), env=None, preexec_fn=None):
        self.data_dir = data_dir
        self.preexec_fn = preexec_fn
        self.extra_args = list(extra_args)
        self.env = dict(os.environ)
        self.env.update({
            "LAKEMESH_ACCESS_KEY_ID": KEY_ID,
            "LAKEMESH_SECRET_ACCESS_KEY": SECRET,
            "LAKEMESH_CONFIG": os.path.join(data_dir, "..", "cli-config.json"),
        })
        self.env.update(env or {})
        self.proc = None
        self.ports = None

    def start(self, timeout=10.0):
        ports_file = os.path.join(self.data_dir, "ports.json")
        if os.path.exists(ports_file):
            os.unlink(ports_file)
        self.log = open(os.path.join(os.path.dirname(self.data_dir), "server.log"), "ab")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--data", self.data_dir, "--http", "127.0.0.1:0", "--s3",
             "127.0.0.1:0", "--pg", "127.0.0.1:0", "--log-format", "json"] + self.extra_args,
            stdout=self.log, stderr=self.log, env=self.env, preexec_fn=self.preexec_fn)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("lakemesh exited with %s" % self.proc.returncode)
            if os.path.exists(ports_file):
                self.ports = json.load(open(ports_file))
                try:
                    if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                        return self
                except requests.ConnectionError:
                    pass
            time.sleep(0.02)
        raise RuntimeError("lakemesh did not become healthy")

    @property
    def url(self):
        return "http://" + self.ports["http"]

    def api(self, method, path, auth=(KEY_ID, SECRET), **kw):
        return requests.request(method, self.url + path, auth=auth, timeout=30, **kw)

    def cli(self, *args, check=True, input=None, env=None):
        e = dict(self.env)
        e["LAKEMESH_URL"] = self.url
        e.update(env or {})
        r = subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e,
                           input=input, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError("lakemesh %s failed (%d): %s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="lakemesh-e2e-") as d:
        yield d


@pytest.fixture
def server(workdir):
    s = Server(os.path.join(workdir, "data")).start()
    yield s
    s.stop()


@pytest.fixture
def demo_server(workdir):
    s = Server(os.path.join(workdir, "data"), ["--demo"]).start()
    yield s
    s.stop()
