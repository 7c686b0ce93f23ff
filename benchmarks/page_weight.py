"""How many bytes do the field pages cost on a phone: first load and repeat visit.

Drives Debian's Chromium (Playwright) against a running server — `make prod`
(gunicorn, whitenoise, PostgreSQL) on loopback is the one to measure — signs
in as the demo worker and, for Today (`/field/`) and the page of an outing of
Today's list:

- first load: a fresh browser context with an empty cache (the session cookie
  copied in), the page and everything it pulls (CSS, JavaScript, icons, the
  font weights it uses);
- repeat visit: the same page again in that context, where the static files
  come from the browser's cache (whitenoise marks them immutable).

Bytes are what came over the wire (Chromium's `encodedDataLength`: headers
and the compressed body), per response, summed.

    make prod &                                   # or PORT=9180 scripts/prod
    .venv/bin/python benchmarks/page_weight.py    # --base-url http://127.0.0.1:8080
"""

import argparse
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The browser tests' own Chromium, flags and phone size.
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE  # noqa: E402

TARGET_FIRST_KB = 100
TARGET_REPEAT_KB = 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    parser.add_argument("--email", default="worker@example.org")
    parser.add_argument("--password", default=None, help="default: the demo password")
    parser.add_argument("--locale", default="fi-FI")
    parser.add_argument("--verbose", action="store_true", help="every response and its bytes")
    return parser.parse_args()


class Meter:
    """Bytes per response of one page load, from the DevTools protocol's network events."""

    def __init__(self, context, page):
        self.session = context.new_cdp_session(page)
        self.session.send("Network.enable")
        self.urls: dict[str, str] = {}
        self.bytes: dict[str, int] = defaultdict(int)
        self.session.on("Network.responseReceived", self._response)
        self.session.on("Network.loadingFinished", self._finished)

    def _response(self, event) -> None:
        self.urls[event["requestId"]] = event["response"]["url"]

    def _finished(self, event) -> None:
        self.bytes[self.urls.get(event["requestId"], event["requestId"])] += int(event["encodedDataLength"])

    def reset(self) -> None:
        self.urls.clear()
        self.bytes.clear()


def kind(url: str) -> str:
    path = url.split("?")[0]
    for ending, name in ((".woff2", "fonts"), (".css", "css"), (".js", "js"), (".svg", "icons"), (".png", "icons")):
        if path.endswith(ending):
            return name
    return "html"


def report(name: str, loads: dict[str, dict[str, int]], *, verbose: bool = False) -> None:
    for load, per_url in loads.items():
        if verbose:
            for url, size in sorted(per_url.items(), key=lambda item: -item[1]):
                print(f"    {load:<13} {size / 1024:7.1f} KB  {url}")
        by_kind: dict[str, int] = defaultdict(int)
        for url, size in per_url.items():
            by_kind[kind(url)] += size
        total = sum(by_kind.values())
        transferred = sum(1 for size in per_url.values() if size)
        target = TARGET_FIRST_KB if load == "first load" else TARGET_REPEAT_KB
        parts = ", ".join(f"{key} {value / 1024:.1f}" for key, value in sorted(by_kind.items()))
        verdict = "meets" if total / 1024 < target else "misses"
        print(
            f"{name:<14} {load:<13} {total / 1024:7.1f} KB in {transferred:2} responses ({parts})"
            f"  — {verdict} < {target} KB"
        )


def main() -> None:
    args = parse_args()
    from playwright.sync_api import sync_playwright

    password = args.password
    if password is None:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from reports.demo.loader import DEMO_PASSWORD

        password = DEMO_PASSWORD
    base = args.base_url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        signing_in = browser.new_context(viewport=PHONE, locale=args.locale)
        page = signing_in.new_page()
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=login]", args.email)
        page.fill("input[name=password]", password)
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r".*/field/$"))
        outing_url = page.evaluate(
            """() => [...document.querySelectorAll("a[href]")].map(a => a.href)
                     .find(href => new RegExp("/field/outings/[0-9]+/$").test(href)) || null"""
        )
        print(f"outing page: {outing_url}")
        cookies = signing_in.cookies()
        signing_in.close()

        pages = [("Today", f"{base}/field/")]
        if outing_url:
            pages.append(("outing page", outing_url if outing_url.startswith("http") else f"{base}{outing_url}"))
        else:
            print("no outing on Today's list: the outing page is not measured")
        for name, url in pages:
            context = browser.new_context(viewport=PHONE, locale=args.locale)  # an empty cache
            context.add_cookies(cookies)
            page = context.new_page()
            meter = Meter(context, page)
            loads: dict[str, dict[str, int]] = {}
            page.goto(url, wait_until="networkidle")
            loads["first load"] = dict(meter.bytes)
            meter.reset()
            page.goto(url, wait_until="networkidle")
            loads["repeat visit"] = dict(meter.bytes)
            report(name, loads, verbose=args.verbose)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
