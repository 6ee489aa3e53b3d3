"""Headless Chromium driven over the DevTools protocol, for the tests of Roadtest's web pages (the review page, the
viewer). Needs websocket-client (`make pyclients`) and Debian's chromium.

    with page_in_chromium("/usr/bin/chromium") as page:
        page.navigate("http://127.0.0.1:8082/")
        page.wait_for("document.readyState === 'complete'")
        print(page.evaluate("document.title"))
"""
import contextlib
import json
import re
import subprocess
import tempfile
import time
import urllib.request

import websocket


class Page:
    """One browser tab: DevTools calls, script evaluation, waiting, key presses."""

    def __init__(self, socket):
        self.socket = socket
        self.counter = 0

    def call(self, method, **params):
        self.counter += 1
        self.socket.send(json.dumps({"id": self.counter, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.counter:
                return message.get("result", {})

    def evaluate(self, expression):
        """The expression's value (JSON-serialisable), or None when it threw or the page was navigating."""
        try:
            result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
            return result.get("result", {}).get("value")
        except Exception:  # noqa: BLE001 - a page between two documents answers nothing useful
            return None

    def wait_for(self, expression, timeout=30):
        """True once the expression is truthy (polled every 100 ms), False after `timeout` seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.1)
        return False

    def navigate(self, url):
        self.call("Page.navigate", url=url)

    def key(self, text):
        """Presses and releases a printable key, as a person would (keydown, keypress, keyup)."""
        self.call("Input.dispatchKeyEvent", type="keyDown", key=text, text=text)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=text)


@contextlib.contextmanager
def page_in_chromium(binary):
    """A fresh headless Chromium (its own profile) with one page; killed on exit."""
    profile = tempfile.mkdtemp()
    process = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         "--user-data-dir=" + profile, "about:blank"],
        stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.time() + 60
        while port is None and time.time() < deadline:
            match = re.search(r"DevTools listening on ws://127.0.0.1:(\d+)/", process.stderr.readline())
            if match:
                port = match.group(1)
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        target = next(t for t in targets if t["type"] == "page")
        page = Page(websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30))
        page.call("Page.enable")
        yield page
    finally:
        process.kill()
