#!/usr/bin/env python3
"""Browser tests of the todo page (web/) in a real, headless Chromium.

Starts a private stack with the integration harness (MariaDB + todod +
nginx, nginx serving the repository's web/ at /), runs
tests/browser/app.test.mjs (playwright-core, pinned in tests/node) against
it, and stops the stack, which also fails the run when nginx logged
[alert]/[crit] or todod printed a sanitizer report.

Prints the Node runner's report and a last line
    RESULT passed=N failed=M
as tests/integration/run.py does; exit status 1 when M > 0.

Environment: TODOD_BUILD and TODOD_BIN as for the harness;
TODOD_CHROMIUM (default: Debian's chromium); TODOD_BROWSER_OUT (where the
screenshots go, default $TODOD_BUILD/browser); TODOD_BROWSER_SERVE=SECONDS
only starts the stack, prints its URL and keeps it up that long (to look
at the page by hand).
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from harness import BUILD, Stack  # noqa: E402

NODE_TIMEOUT = 240


def main():
    # SIGTERM (scripts/test's timeout, a developer's kill) unwinds like an
    # exception, so the finally below still stops the stack.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    out_dir = os.path.abspath(os.environ.get("TODOD_BROWSER_OUT") or os.path.join(BUILD, "browser"))
    os.makedirs(out_dir, exist_ok=True)
    passed = failed = 0
    stack = Stack(name="browser", web_root=os.path.join(ROOT, "web"))
    try:
        stack.start()
    except Exception as e:  # the harness has printed the logs
        print("cannot start the stack: %s" % e)
        print("RESULT passed=0 failed=1")
        return 1
    keep = False
    proc = None
    try:
        serve = os.environ.get("TODOD_BROWSER_SERVE")
        if serve:
            print("serving %s for %ss" % (stack.base_url, serve), flush=True)
            time.sleep(float(serve))
            print("RESULT passed=0 failed=0")
            return 0
        env = dict(os.environ, TODOD_BASE_URL=stack.base_url, TODOD_BROWSER_OUT=out_dir)
        proc = subprocess.Popen(["node", os.path.join(HERE, "app.test.mjs")], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        results = []

        def pump():
            for line in proc.stdout:
                m = re.fullmatch(r"RESULT passed=(\d+) failed=(\d+)", line.strip())
                if m:
                    results.append((int(m.group(1)), int(m.group(2))))
                else:
                    sys.stdout.write(line)
                    sys.stdout.flush()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            proc.wait(NODE_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Only the Node process we started; its Chromium exits when
            # the pipe it is driven through closes.
            proc.kill()
            proc.wait(10)
            print("node did not finish within %ds" % NODE_TIMEOUT)
            failed += 1
        reader.join(10)
        last = results[-1] if results else None
        if last is None:
            print("node exited with %s without a RESULT line" % proc.returncode)
            failed += 1
        else:
            passed += last[0]
            failed += last[1]
            if last[1] == 0 and proc.returncode != 0:
                print("node exited with %d" % proc.returncode)
                failed += 1
        keep = failed > 0
        if keep:
            sys.stdout.write("--- the stack's logs (kept in %s):\n%s\n" % (stack.dir, stack.diagnostics()))
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()  # interrupted (SIGTERM): the Node process we started
            proc.wait(10)
        try:
            stack.stop(keep=keep)
        except AssertionError as e:
            print(str(e))
            failed += 1
    print("screenshots in %s" % out_dir)
    print("RESULT passed=%d failed=%d" % (passed, failed))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
