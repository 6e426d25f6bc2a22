"""Load a local HTML page in headless Chromium with the network cut off, and report what drew.

No Python dependency: Chromium is driven over the DevTools protocol on ``--remote-debugging-pipe``
(NUL-terminated JSON; we write on the browser's fd 3 and read its fd 4). Every network request
fails twice over: launch flags send all traffic to a dead proxy and resolve no host name, and
the page runs under DevTools' offline network emulation. file:// URLs still load.

    report = check_page(Path("dvc_plots/index.html"), Path("shot.png"))

Chart containers are the divs DVC writes for Vega plots, ``<div id="X"><script>... vegaEmbed('#X',
spec)``, found by their ids in the HTML source (vega-embed empties the div, script included, when
it draws); one is *drawn* once it holds an ``svg`` or ``canvas`` (the action-menu icon excepted).
Without a Chromium binary, :func:`check_page` calls ``pytest.skip``.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
    "--mute-audio", "--force-device-scale-factor=1", "--window-size=1280,900",
    # the network: a dead proxy for everything (loopback included) and no name resolution
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-quic",
    "--remote-debugging-pipe", "about:blank",
]

EMBED_CALL = re.compile(r"""vegaEmbed\(\s*['"]#([^'"]+)['"]""")  # DVC: vegaEmbed('#<div id>', spec)

# The page's state: the chart divs (ids given as CHART_IDS), whether each drew, and every <img>.
STATE_JS = """((ids) => {
  const charts = ids.map(id => document.getElementById(id) || {id, querySelectorAll: () => []});
  const drawn = charts.filter(d => [...d.querySelectorAll('svg, canvas')].some(e =>
    !e.closest('details') && e.getBoundingClientRect().width > 0));
  const images = [...document.images].map(i => [(i.getAttribute('src') || '').slice(0, 200),
    i.complete && i.naturalWidth > 0, i.complete]);
  return {ready: document.readyState, charts: charts.length, drawn: drawn.length, images,
          undrawn: charts.filter(d => !drawn.includes(d)).map(d => d.id)};
})(CHART_IDS)"""


@dataclass
class PageReport:
    charts: int  # DVC Vega chart containers
    drawn: int  # of those, how many hold an svg/canvas
    errors: list[str]  # uncaught exceptions, console.error, browser log errors (failed loads)
    images: list[tuple[str, bool]]  # every <img>: (src, loaded)
    images_loaded: int
    undrawn: list[str] = field(default_factory=list)  # ids of chart divs that did not draw
    warnings: list[str] = field(default_factory=list)  # console.warn etc. (not failures)
    screenshot: Path | None = None

    def ok(self) -> bool:
        return self.charts == self.drawn and not self.errors and self.images_loaded == len(self.images)


def find_chromium() -> str | None:
    env = os.environ.get("CHROMIUM")
    return env if env and shutil.which(env) else next(filter(None, map(shutil.which, BINARIES)), None)


class DevTools:
    """A DevTools-protocol client over the pipe; events are kept in ``self.events``."""

    def __init__(self, binary: str, profile: str):
        to_browser, self._w = os.pipe()
        self._r, from_browser = os.pipe()

        def child_fds():  # the browser reads commands on fd 3 and writes replies on fd 4
            a, b = fcntl.fcntl(to_browser, fcntl.F_DUPFD, 10), fcntl.fcntl(from_browser, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([binary, f"--user-data-dir={profile}", *FLAGS], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log, pass_fds=(3, 4), preexec_fn=child_fds,
                                     start_new_session=True)  # its own process group: closed as one
        os.close(to_browser)
        os.close(from_browser)
        self._buf, self._id, self.events, self.session = bytearray(), 0, [], None

    def send(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if self.session:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            for reply in self.poll(deadline - time.monotonic()):
                if reply.get("id") == self._id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply to {method} in {timeout:.0f} s")

    def poll(self, timeout: float) -> list[dict]:
        """Read what arrives within ``timeout`` s: replies are returned, events also kept."""
        out = []
        if select.select([self._r], [], [], max(timeout, 0))[0]:
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                self._log.seek(0)
                raise RuntimeError(f"chromium exited: {self._log.read()[-2000:].decode(errors='replace')}")
            self._buf += chunk
            if b"\0" in chunk:  # (a screenshot reply comes in many chunks)
                *messages, rest = self._buf.split(b"\0")
                self._buf = bytearray(rest)
                for raw in messages:
                    msg = json.loads(raw)
                    (self.events if "method" in msg else out).append(msg)
        return out

    def close(self) -> None:
        try:
            self.session = None
            os.write(self._w, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:  # what is left of the browser's processes (its group)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        for fd in (self._r, self._w):
            os.close(fd)
        self._log.close()


def _message(event: dict, levels: tuple[str, ...]) -> str | None:
    """The text of an exception (level "error"), console call or browser log entry at ``levels``."""
    method, p = event["method"], event.get("params", {})
    if method == "Runtime.exceptionThrown" and "error" in levels:
        d = p["exceptionDetails"]
        return "exception: " + (d.get("exception", {}).get("description") or d.get("text", "?")).splitlines()[0]
    if method == "Runtime.consoleAPICalled" and p["type"].replace("assert", "error") in levels:
        return f"console.{p['type']}: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
    if method == "Log.entryAdded" and p["entry"]["level"] in levels:
        e = p["entry"]
        return f"{e['source']}: {e['text']} {e.get('url', '')}".strip()
    return None


def _loaded(events: list[dict]) -> bool:
    """The load event of the navigated page (not of the about:blank it replaced)."""
    methods = [e["method"] if e["method"] != "Page.frameNavigated" or "parentId" in e["params"]["frame"]
               or e["params"]["frame"]["url"] == "about:blank" else "navigated" for e in events]
    return "navigated" in methods and "Page.loadEventFired" in methods[methods.index("navigated"):]


def check_page(html: Path, screenshot: Path, timeout_s: float = 60, settle_s: float = 5) -> PageReport:
    """Open ``html`` offline, wait until every chart drew and every image finished (or nothing
    changed for ``settle_s`` seconds after load, or ``timeout_s``), screenshot the full page."""
    binary = find_chromium()
    if binary is None:
        import pytest

        pytest.skip("no chromium binary on PATH (bash scripts/setup_browser.sh installs it)")
    ids = list(dict.fromkeys(EMBED_CALL.findall(Path(html).read_text(encoding="utf8", errors="replace"))))
    state_js = STATE_JS.replace("CHART_IDS", json.dumps(ids))
    with tempfile.TemporaryDirectory(prefix="ganflow-chromium-") as profile:
        cdp = DevTools(binary, profile)
        try:
            target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            cdp.session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                cdp.send(f"{domain}.enable")
            cdp.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                          "downloadThroughput": -1, "uploadThroughput": -1})
            cdp.send("Page.navigate", {"url": Path(html).resolve().as_uri()})
            start = last_change = time.monotonic()
            while not _loaded(cdp.events):
                if time.monotonic() - start > timeout_s:
                    raise TimeoutError(f"{html}: no load event in {timeout_s:.0f} s")
                cdp.poll(0.2)
            seen = None
            while True:
                cdp.poll(0.2)
                state = cdp.send("Runtime.evaluate", {"expression": state_js, "returnByValue": True})["result"]["value"]
                key = (state["ready"], state["drawn"], [i[2] for i in state["images"]])
                if key != seen:
                    seen, last_change = key, time.monotonic()
                if state["ready"] == "complete" and all(i[2] for i in state["images"]) and (
                        state["drawn"] == state["charts"] or time.monotonic() - last_change > settle_s):
                    break
                if time.monotonic() - start > timeout_s:
                    break  # report what there is
            cdp.poll(0.3)  # late console errors
            metrics = cdp.send("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": metrics["width"], "height": metrics["height"], "scale": 1}
            png = cdp.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
        finally:
            cdp.close()
    screenshot = Path(screenshot)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(base64.b64decode(png["data"]))
    errors = [t for t in (_message(e, ("error",)) for e in cdp.events) if t]
    warnings = [t for t in (_message(e, ("warning",)) for e in cdp.events) if t]
    images = [(src, loaded) for src, loaded, _ in state["images"]]
    return PageReport(charts=state["charts"], drawn=state["drawn"], errors=errors, images=images,
                      images_loaded=sum(loaded for _, loaded in images), undrawn=state["undrawn"],
                      warnings=warnings, screenshot=screenshot)
