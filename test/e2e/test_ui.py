"""The web UI: how the server serves it, and the journeys users take through it in a real browser
(Debian's Chromium driven by playwright-core; screenshots of every step are kept in
build/test-artifacts/ui)."""
import gzip
import os
import subprocess
import time

import requests

from conftest import KEY_ID, SECRET

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.environ.get("LAKEMESH_UI_ARTIFACTS") or os.path.join(
    HERE, "..", "..", "build", "test-artifacts", "ui")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def test_pages_and_assets(server):
    r = requests.get(server.url + "/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-cache"
    # The page names its script and style sheet with their hashes.
    html = r.text
    js = html.split('src="')[1].split('"')[0]
    css = html.split('rel="stylesheet" href="')[1].split('"')[0]
    assert js.startswith("/ui/app.js?v=") and css.startswith("/ui/app.css?v=")

    a = requests.get(server.url + js, headers={"Accept-Encoding": "gzip"}, stream=True)
    assert a.status_code == 200
    assert a.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert a.headers["Content-Encoding"] == "gzip"
    assert "immutable" in a.headers["Cache-Control"]
    raw = gzip.decompress(a.raw.read())
    plain = requests.get(server.url + js, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.content == raw and len(raw) > 10000
    # The hash in the URL is the content's: a cached copy is revalidated by its ETag.
    assert js.split("v=")[1] in a.headers["ETag"]
    again = requests.get(server.url + js, headers={"If-None-Match": a.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    head = requests.head(server.url + css)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) > 1000

    # Every page of the app is the same document; a path the app does not have is a 404 that a
    # browser still renders (the app says "not found").
    for page in ("/products/sales/orders", "/repos/sales/commits", "/sql", "/search", "/signin"):
        p = requests.get(server.url + page)
        assert p.status_code == 200 and p.text == html, page
    missing = requests.get(server.url + "/no/such/page", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and missing.text == html
    assert requests.get(server.url + "/ui/nope.js").status_code == 404
    assert requests.get(server.url + "/ui/index.html").status_code == 404
    # What is not a page stays with the protocols.
    j = requests.get(server.url + "/no/such/page")
    assert j.status_code == 404 and j.json()["error"]["code"] == "NotFound"
    assert requests.get(server.url + "/api/v1/nothing", headers={"Accept": "text/html"}).json()[
        "error"]["code"] in ("NotFound", "Unauthenticated")
    assert requests.post(server.url + "/", data="x").status_code in (404, 405)


def test_scripts_are_not_challenged(server):
    # A browser would show its own password dialog for a Basic challenge, so the app's requests
    # (X-Requested-With) get none; other clients still do.
    r = requests.get(server.url + "/api/v1/repositories")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    r = requests.get(server.url + "/api/v1/repositories", headers={"X-Requested-With": "lakemesh-ui"})
    assert r.status_code == 401 and "WWW-Authenticate" not in r.headers
    r = requests.post(server.url + "/v1/statement", data="SELECT 1",
                      headers={"X-Requested-With": "lakemesh-ui"})
    assert r.status_code == 401 and "WWW-Authenticate" not in r.headers
    r = requests.post(server.url + "/v1/statement", data="SELECT 1")
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers


def test_browser_journeys(demo_server):
    # scripts/install-deps.sh installs Debian's Chromium: without it this test fails, not skips.
    assert os.path.exists(CHROMIUM), "no Chromium at %s: run scripts/install-deps.sh" % CHROMIUM
    # The demo checks its products in the background once it starts; the journeys read those runs.
    # The demo checks its products, then builds its dbt project into `shop`, in the background
    # once it starts; the journeys read both.
    deadline = time.time() + 60
    while time.time() < deadline:
        runs = demo_server.api("GET", "/api/v1/products/sales/orders/runs").json()["runs"]
        views = demo_server.api("GET", "/iceberg/v1/main/namespaces/shop/views")
        if len(runs) >= 2 and views.status_code == 200 and len(views.json()["identifiers"]) >= 3:
            break
        time.sleep(0.2)
    r = subprocess.run(
        ["node", os.path.join(HERE, "node", "ui_journeys.mjs"), demo_server.url, KEY_ID, SECRET,
         ARTIFACTS],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, CHROMIUM=CHROMIUM))
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    for journey in ("signin", "home", "find_product", "product", "sql", "browse", "errors"):
        assert "ok   " + journey in r.stdout
    assert os.path.exists(os.path.join(ARTIFACTS, "home.png"))
