"""The deployment on loopback (deploy/topology.py, as scripts/cluster starts it): a Dask
scheduler and worker, two Streamlit replicas and Debian's nginx in front. Through nginx: the
health endpoint, sticky replicas, and a run that survives the replica serving it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from bench.devserver import CHROMIUM_ARGS
from deploy.topology import render_nginx, topology

pytestmark = pytest.mark.cluster

ROUTE = "lstmae_route"


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture(scope="module")
def deployed():
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed (bash scripts/test installs it with apt)")
    with topology(replicas=2, workers=1) as top:
        yield top


def test_the_rendered_nginx_configuration_is_valid_for_nginx(tmp_path):
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed (bash scripts/test installs it with apt)")
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx("127.0.0.1:18080", ["127.0.0.1:18501", "127.0.0.1:18502"],
                                 tmp_path))
    checked = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    assert "server 127.0.0.1:18502" in conf.read_text()


def get(url: str, cookie: str | None = None) -> tuple[str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Cookie": f"{ROUTE}={cookie}"} if cookie
                                     else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode(), {k.lower(): v for k, v in response.headers.items()}


def test_health_through_nginx_and_each_browser_sticks_to_one_replica(deployed):
    body, headers = get(f"{deployed.url}/_stcore/health")
    assert body.strip() == "ok"
    cookie = re.search(rf"{ROUTE}=(\w+)", headers["set-cookie"]).group(1)
    replicas = {u.split("//")[1] for u in deployed.replicas}
    assert headers["x-lstmae-upstream"] in replicas
    # The same cookie: always the same replica; a class of browsers spreads over both.
    again = {get(f"{deployed.url}/_stcore/health", cookie)[1]["x-lstmae-upstream"]
             for _ in range(5)}
    assert again == {headers["x-lstmae-upstream"]}
    spread = {get(f"{deployed.url}/_stcore/health", f"learner{i}")[1]["x-lstmae-upstream"]
              for i in range(20)}
    assert spread == replicas


def test_a_slow_reader_gets_the_whole_chart_bundle_and_an_upload_gets_through(deployed):
    """nginx spills what it cannot hold in memory to its temp directories: an answer the browser
    reads slower than the replica sends it (Plotly's 4.7 MB bundle, on a busy machine) and every
    request body over 16 KB (a CSV upload). Both must reach their end through nginx; when its
    workers could not open those files the bundle arrived cut short and the page showed 'Failed
    to fetch dynamically imported module' where every chart should be."""
    import socket
    import urllib.parse

    import streamlit

    bundle = max((Path(streamlit.__file__).parent / "static" / "static" / "js").glob("*.js"),
                 key=lambda f: f.stat().st_size)
    where = urllib.parse.urlparse(deployed.url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(f"GET /static/js/{bundle.name} HTTP/1.1\r\nHost: {where.netloc}\r\n"
                     "Connection: close\r\n\r\n".encode())
        time.sleep(3)  # not reading yet: nginx must buffer the replica's answer
        answer = b"".join(iter(lambda: sock.recv(1 << 16), b""))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    assert body == bundle.read_bytes()

    upload = urllib.request.Request(f"{deployed.url}/_stcore/upload_file/session/widget",
                                    data=b"t,x\n" + b"0,0.5\n" * 40_000, method="PUT")
    try:
        with urllib.request.urlopen(upload, timeout=30) as response:
            status, upstream = response.status, response.headers["x-lstmae-upstream"]
    except urllib.error.HTTPError as err:
        status, upstream = err.code, err.headers["x-lstmae-upstream"]
    # A replica answers (it refuses a PUT without Streamlit's XSRF token), not nginx's own 500.
    assert status != 500 and upstream in {u.split("//")[1] for u in deployed.replicas}
    assert "Permission denied" not in (deployed.workdir / "error.log").read_text()


LOSS_POINTS = """() => {
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        const t = gd.layout && gd.layout.yaxis && gd.layout.yaxis.title;
        if (t && t.text && t.text.startsWith('loss')) return (gd.data[0].y || []).length;
    }
    return 0;
}"""


def wait_points(page, at_least: int, timeout: float) -> int:
    end = time.monotonic() + timeout
    points = page.evaluate(LOSS_POINTS)
    while points < at_least and time.monotonic() < end:
        time.sleep(0.25)
        points = page.evaluate(LOSS_POINTS)
    return points


def test_a_run_survives_the_replica_serving_it(deployed, browser_type, tmp_path):
    """Start a run through nginx, kill the replica serving the page, reload: nginx sends the
    page to the other replica, which finds the run in the cluster by the id in the URL, and the
    run completes there with every epoch's point."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not on PATH (bash scripts/test installs it with apt)")
    browser: Browser = browser_type.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{deployed.url}/train?epochs=40&n_series=256")
        page.get_by_role("button", name="Train").click()
        if wait_points(page, 2, 90) < 2:
            page.screenshot(path=str(tmp_path / "no-points.png"), full_page=True)
            logs = {n: (deployed.workdir / f"{n}.log").read_text(errors="replace")[-1500:]
                    for n in ("worker-1", "replica-1", "replica-2")}
            pytest.fail(f"no loss points through nginx; screenshot {tmp_path}/no-points.png; "
                        f"logs: {logs}")
        expect(page).to_have_url(re.compile(r"run=[\w-]+"))
        run_id = re.search(r"run=([\w-]+)", page.url).group(1)
        serving = page.request.get(f"{deployed.url}/_stcore/health").headers[
            "x-lstmae-upstream"]
        name = f"replica-{[u.split('//')[1] for u in deployed.replicas].index(serving) + 1}"
        before = page.evaluate(LOSS_POINTS)
        assert before < 40, "the run ended before the replica could be killed"
        deployed.kill(name)
        page.reload()
        assert run_id in page.url
        survivor = page.request.get(f"{deployed.url}/_stcore/health").headers[
            "x-lstmae-upstream"]
        assert survivor != serving
        expect(page.get_by_text(re.compile(r"Done: 40 epochs"))).to_be_visible(timeout=120_000)
        assert wait_points(page, 40, 10) == 40
        page.screenshot(path=str(tmp_path / "failover-done.png"), full_page=True)
        print(f"screenshot: {tmp_path / 'failover-done.png'}")
    finally:
        browser.close()
