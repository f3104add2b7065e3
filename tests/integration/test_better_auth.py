"""The Better Auth browser client against a private stack.

Runs tests/node/better_auth.mjs (an unchanged `createAuthClient` from the
npm package better-auth, pinned in tests/node/package.json) with the
stack's base URL: sign-up, sign-in, get-session by cookie and by bearer
token, GET /api/auth/token through the client's $fetch, sign-out, and the
errors the client reports. Installs tests/node/node_modules with `npm ci`
when it is missing or does not match the lock file.
"""

import json
import os
import re
import shutil
import subprocess

from harness import ROOT, StackTestCase

NODE_DIR = os.path.join(ROOT, "tests", "node")
SCRIPT = os.path.join(NODE_DIR, "better_auth.mjs")


def installed_matches_lock():
    """True when node_modules holds the better-auth version the lock pins."""
    try:
        with open(os.path.join(NODE_DIR, "package-lock.json"), encoding="utf-8") as f:
            want = json.load(f)["packages"]["node_modules/better-auth"]["version"]
        with open(os.path.join(NODE_DIR, "node_modules", "better-auth", "package.json"),
                  encoding="utf-8") as f:
            have = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return False
    return want == have


class BetterAuthClientTest(StackTestCase):

    def test_better_auth_client(self):
        node = shutil.which("node")
        npm = shutil.which("npm")
        self.assertTrue(node, "node not found; run scripts/test (it installs what is missing)")
        if not installed_matches_lock():
            self.assertTrue(npm, "npm not found; run scripts/test (it installs what is missing)")
            r = subprocess.run([npm, "ci", "--prefix", NODE_DIR, "--no-audit", "--no-fund"],
                               cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=900)
            self.assertEqual(r.returncode, 0, "npm ci --prefix tests/node failed:\n" + r.stdout[-4000:])
            self.assertTrue(installed_matches_lock(), "npm ci did not install better-auth")

        r = subprocess.run([node, SCRIPT, self.stack.base_url], cwd=ROOT,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=300)
        report = "better_auth.mjs %s exited with %d:\n%s" % (self.stack.base_url, r.returncode,
                                                             r.stdout)
        self.assertEqual(r.returncode, 0, report)
        # A clean exit must also be a complete run: a plan and no failure.
        plan = re.search(r"^1\.\.(\d+)$", r.stdout, re.M)
        self.assertTrue(plan and int(plan.group(1)) > 0, "no TAP plan\n" + report)
        self.assertNotRegex(r.stdout, r"(?m)^not ok ", report)
        self.assertEqual(len(re.findall(r"(?m)^ok \d+ ", r.stdout)), int(plan.group(1)), report)
