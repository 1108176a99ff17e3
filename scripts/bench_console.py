"""The console figures of `make bench` (scripts/bench.py runs them on its DynamoDB Local): the server time of the
console's home and profile pages for a signed-in person, and the bytes each page sends. Each answers a dict for
bench/results.json; nothing is asserted against the targets, they are printed next to the figures."""

import contextlib
import gzip
import os
import re
import statistics
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = (("home", "/console/"), ("profile", "/console/profile"))
TARGET_P50_MS = 50  # issue 21: p50 <= 50 ms on `make run`
TARGET_KB = 60  # issue 21: HTML + CSS + JS of a page, compressed where the client accepts it
GZIP_LEVEL = 6  # what API Gateway / CloudFront compression sends to a client that accepts gzip
LINKED = re.compile(r'<link rel="stylesheet" href="([^"]+)"|<script src="([^"]+)"')


def console_pages(requests: int = 200) -> dict:
    """Sign an administrator in once through the console (the argon2id hash paid there, not timed), then load each
    page `requests` times through Chalice's in-process gateway (middleware, session lookup, render: the path of
    `make run`): p50 and p95 server time, the first load apart; and the bytes of the page with what it links."""
    from chalice.test import Client

    import app
    from chalicelib.web import console
    from tests.console_browser import Browser
    from tests.helpers import make_org, make_user

    make_org("console-org", name="Bench Haustechnik")
    for n in range(3):  # an administrator of a small tree: the home page lists the organizations to act for
        make_org(f"console-child-{n}", parent_id="console-org", name=f"Bench Kunde {n}")
    make_user(email="bench-console@example.com", roles=("ORG_ADMIN",), org_id="console-org", name="Bench Admin")
    built = {spec.path for spec in console.PAGES if spec.method == "GET"}
    results: dict = {"requests": requests, "target_p50_ms": TARGET_P50_MS, "target_kb": TARGET_KB}
    # The JSON request logs and metrics are written as on Lambda, into a sink instead of this table.
    with Client(app.app, stage_name="bench", project_dir=ROOT) as client, _sink():
        browser = Browser(client)
        landed = browser.sign_in("bench-console@example.com")
        if landed.status_code != 200 or landed.path != console.HOME:
            raise RuntimeError(f"the bench's sign-in landed on {landed.path} ({landed.status_code})")
        cookie = {"Cookie": "; ".join(f"{name}={value}" for name, value in browser.cookies.items() if value)}
        for name, path in PAGES:
            if path not in built:
                results[name] = {"path": path, "built": False}
                continue
            results[name] = {"path": path, "built": True, **_timed(client, path, cookie, requests)}
            with _dynamodb_calls() as calls:
                html = client.http.get(path, headers=cookie).body
            results[name].update(_bytes_sent(client, html), dynamodb_calls=dict(sorted(calls.items())))
    return results


def _timed(client, path: str, headers: dict, requests: int) -> dict:
    samples = []
    for _ in range(requests + 1):
        started = time.perf_counter()
        response = client.http.get(path, headers=headers)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} during the bench")
    first, timed = samples[0], sorted(samples[1:])
    return {
        "first_ms": round(first * 1000, 1),
        "p50_ms": round(statistics.median(timed) * 1000, 1),
        "p95_ms": round(statistics.quantiles(timed, n=20)[-1] * 1000, 1),
    }


@contextlib.contextmanager
def _dynamodb_calls():
    """Count the DynamoDB operations pynamodb sends meanwhile (every model and transaction goes through here)."""
    from pynamodb.connection.base import Connection

    calls: Counter = Counter()
    original = Connection._make_api_call

    def counting(self, operation_name, operation_kwargs):
        calls[operation_name] += 1
        return original(self, operation_name, operation_kwargs)

    Connection._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        Connection._make_api_call = original  # type: ignore[method-assign]


@contextlib.contextmanager
def _sink():
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def _bytes_sent(client, html: bytes) -> dict:
    """The page and every stylesheet and script it links (a first visit; later ones reuse the cached assets)."""
    bodies = {"html": html}
    for stylesheet, script in LINKED.findall(html.decode("utf-8")):
        asset = client.http.get(stylesheet or script)
        bodies[stylesheet or script] = asset.body if isinstance(asset.body, bytes) else asset.body.encode("utf-8")
    raw = {name: len(body) for name, body in bodies.items()}
    compressed = {name: len(gzip.compress(body, compresslevel=GZIP_LEVEL)) for name, body in bodies.items()}
    return {
        "files": sorted(name for name in bodies if name != "html"),
        "html_bytes": raw["html"],
        "html_gzip_bytes": compressed["html"],
        "total_bytes": sum(raw.values()),
        "total_gzip_bytes": sum(compressed.values()),
    }


def print_console(results: dict) -> None:
    """The console lines of the bench table."""
    figures = results["console"]
    print(
        f"{'console pages, signed in (DynamoDB Local)':<44}server time over {figures['requests']} loads; "
        f"bytes of a first visit (HTML + CSS + JS), gzip -{GZIP_LEVEL}"
    )
    for name, _path in PAGES:
        page = figures[name]
        label = f"  GET {page['path']}"
        if not page["built"]:
            print(f"{label:<44}not built")
            continue
        print(
            f"{label:<44}p50 {page['p50_ms']} ms, p95 {page['p95_ms']} ms (first {page['first_ms']} ms; "
            f"target p50 <= {figures['target_p50_ms']} ms), DynamoDB calls of one load {page['dynamodb_calls']}"
        )
        print(
            f"{'':<44}{page['total_gzip_bytes'] / 1024:.1f} KB gzip, {page['total_bytes'] / 1024:.1f} KB raw "
            f"(HTML {page['html_gzip_bytes'] / 1024:.1f} KB gzip; target <= {figures['target_kb']} KB)"
        )
