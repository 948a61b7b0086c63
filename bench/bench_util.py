"""Helpers the Python benchmarks share."""
import os
import socket
import subprocess
import time

KEY, SECRET = "LMBENCHKEY0000000001", "bench-secret-0123456789abcdefghijklmnopq"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listening on port %d" % port)


def start_lakemesh(binary, scratch, procs, extra_args=()):
    """Starts `lakemesh serve` on free loopback ports with the benchmark key; returns the ports
    as {"s3": .., "http": .., "pg": ..}. The process is appended to `procs`."""
    ports = {"s3": free_port(), "http": free_port(), "pg": free_port()}
    env = dict(os.environ, LAKEMESH_ACCESS_KEY_ID=KEY, LAKEMESH_SECRET_ACCESS_KEY=SECRET,
               LAKEMESH_CONFIG=os.path.join(scratch, "cli.json"))
    lm = subprocess.Popen([binary, "serve", "--data", os.path.join(scratch, "lm"), "--s3",
                           "127.0.0.1:%d" % ports["s3"], "--http", "127.0.0.1:%d" % ports["http"],
                           "--pg", "127.0.0.1:%d" % ports["pg"], "--log-level", "warn"]
                          + list(extra_args),
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(lm)
    wait_port(ports["s3"])
    wait_port(ports["http"])
    return ports


def start_nginx(scratch, root, procs):
    """Starts nginx serving `root` as static files on a free port (scratch must be readable by
    nginx's workers); returns the port."""
    port = free_port()
    conf = os.path.join(scratch, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off; worker_processes auto; pid %s/nginx.pid; error_log %s/nginx.err;\n"
                "events { worker_connections 1024; }\n"
                "http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;\n"
                "  client_body_temp_path %s/cb; proxy_temp_path %s/pt; fastcgi_temp_path %s/ft;\n"
                "  uwsgi_temp_path %s/ut; scgi_temp_path %s/st;\n"
                "  server { listen 127.0.0.1:%d; root %s; } }\n"
                % ((scratch,) * 7 + (port, root)))
    ng = subprocess.Popen(["/usr/sbin/nginx", "-c", conf, "-p", scratch],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(ng)
    wait_port(port)
    return port
