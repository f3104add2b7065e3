"""The Debian package and the install layout, without a stack: scripts/package
builds todod_<version>_<arch>.deb under the build tree; its file list and
control fields, lintian (no E: line), the maintainer scripts run against a
staging root with the system commands stubbed (nothing is installed on this
machine and no user is created), systemd-analyze verify and security on the
unit, and `meson install --destdir` of the package's build tree.

The package's build tree ($TODOD_BUILD/package-test/build) is kept between
runs so that the next one only relinks what changed; everything else under
$TODOD_BUILD/package-test is made anew."""

import base64
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import BUILD, ROOT

PKG_OUT = os.path.join(BUILD, "package-test")
PACKAGE = os.path.join(ROOT, "scripts", "package")
SBIN_PATH = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"

# The runtime libraries the binary links (Debian 12 names) and what the
# maintainer scripts and the service use.
DEPENDS = ("libc6", "libfcgi0ldbl", "libjson-c5", "libjwt0", "libmariadb3", "libssl3", "libsodium23",
           "libunistring2", "john-data", "adduser")
RECOMMENDS = ("nginx", "mariadb-server")

# Every command the maintainer scripts may call that would touch the
# machine rather than $DPKG_ROOT: each stub logs its arguments and succeeds.
STUBS = ("adduser", "addgroup", "useradd", "groupadd", "deluser", "delgroup", "userdel",
         "chown", "chgrp", "deb-systemd-helper", "deb-systemd-invoke", "systemctl",
         "invoke-rc.d", "update-rc.d")


def run(args, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 300)
    return subprocess.run(args, stdin=subprocess.DEVNULL, **kwargs)


def check(args, **kwargs):
    r = run(args, **kwargs)
    if r.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def tree(top):
    """Every path under top, relative, directories with a trailing slash."""
    out = set()
    for d, dirs, files in os.walk(top):
        rel = os.path.relpath(d, top)
        for name in dirs:
            out.add(os.path.normpath(os.path.join(rel, name)) + "/")
        for name in files:
            out.add(os.path.normpath(os.path.join(rel, name)))
    return out


def unit_settings(path):
    """The unit's key=value lines (comments dropped), as a list of pairs."""
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")) and "=" in line:
                k, v = line.split("=", 1)
                pairs.append((k, v))
    return pairs


class PackageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        os.makedirs(PKG_OUT, exist_ok=True)
        out = check([PACKAGE, PKG_OUT])
        cls.deb = out.strip().splitlines()[-1]
        cls.tmp = tempfile.mkdtemp(prefix="pkg-t-", dir=PKG_OUT)
        cls.pkg_build = os.path.join(PKG_OUT, "build")
        info = json.loads(check(["meson", "introspect", "--projectinfo", cls.pkg_build]))
        cls.version = info["version"]
        cls.arch = check(["dpkg", "--print-architecture"]).strip()
        # The package's files and its control area, extracted once.
        cls.files = os.path.join(cls.tmp, "files")
        cls.control = os.path.join(cls.tmp, "control")
        check(["dpkg-deb", "-x", cls.deb, cls.files])
        check(["dpkg-deb", "-e", cls.deb, cls.control])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def field(self, name):
        return check(["dpkg-deb", "-f", self.deb, name]).strip()

    # The package itself.

    def test_name_and_version(self):
        self.assertEqual(os.path.basename(self.deb), "todod_%s_%s.deb" % (self.version, self.arch))
        self.assertEqual(self.field("Package"), "todod")
        self.assertEqual(self.field("Version"), self.version)
        self.assertEqual(self.field("Architecture"), self.arch)
        out = check([os.path.join(self.files, "usr/bin/todod"), "--version"])
        lines = out.splitlines()
        self.assertEqual(lines[0], "todod " + self.version)
        for lib in ("MariaDB Connector/C ", "json-c ", "OpenSSL ", "libunistring ", "libjwt ",
                    "libfcgi "):
            self.assertTrue(any(line.startswith(lib) for line in lines[1:]), out)

    def test_file_list(self):
        listing = check(["dpkg-deb", "-c", self.deb])
        entries = {}
        for line in listing.splitlines():
            parts = line.split(None, 5)
            entries[parts[5].split(" -> ")[0]] = (parts[0], parts[1])
        want = {
            "./usr/bin/todod": ("-rwxr-xr-x", "root/root"),
            "./lib/systemd/system/todod.service": ("-rw-r--r--", "root/root"),
            "./usr/share/todod/todod.conf": ("-rw-r--r--", "root/root"),
            "./usr/share/doc/todod/nginx.conf.sample": ("-rw-r--r--", "root/root"),
            "./usr/share/doc/todod/operations.md": ("-rw-r--r--", "root/root"),
            "./usr/share/doc/todod/copyright": ("-rw-r--r--", "root/root"),
            "./usr/share/doc/todod/changelog.gz": ("-rw-r--r--", "root/root"),
            "./usr/share/man/man1/todod.1.gz": ("-rw-r--r--", "root/root"),
        }
        for sql in sorted(glob.glob(os.path.join(ROOT, "sql", "*.sql"))):
            want["./usr/share/todod/sql/" + os.path.basename(sql)] = ("-rw-r--r--", "root/root")
        web = os.path.join(ROOT, "web")
        if os.path.isdir(web):
            for rel in tree(web):
                if not rel.endswith("/"):
                    want["./usr/share/todod/web/" + rel] = ("-rw-r--r--", "root/root")
        for path, (mode, owner) in want.items():
            self.assertIn(path, entries, listing)
            self.assertEqual(entries[path], (mode, owner), path)
        # The configuration and the secrets are postinst's, never the
        # package's (so that dpkg neither replaces nor removes them).
        self.assertFalse([p for p in entries if p.startswith("./etc")], listing)
        for path, (mode, owner) in entries.items():
            self.assertEqual(owner, "root/root", path)
            self.assertNotIn("w", mode[5] + mode[8], path)

    def test_control_fields(self):
        depends = [d.strip().split()[0] for d in self.field("Depends").split(",")]
        for name in DEPENDS:
            self.assertIn(name, depends)
        recommends = [d.strip().split()[0] for d in self.field("Recommends").split(",")]
        self.assertEqual(sorted(recommends), sorted(RECOMMENDS))
        self.assertTrue(self.field("Maintainer"))
        self.assertTrue(self.field("Description"))
        self.assertTrue(self.field("Installed-Size").isdigit())

    def test_lintian_has_no_errors(self):
        r = run(["lintian", "--pedantic", "--display-info", self.deb], timeout=240)
        out = r.stdout + r.stderr
        # lintian's exit status is 1 for errors and for warnings alike.
        errors = [line for line in out.splitlines() if line.startswith("E:")]
        self.assertEqual(errors, [], out)
        self.assertIn(r.returncode, (0, 1), out)
        shown = [line for line in out.splitlines() if line[:2] in ("W:", "I:", "P:")]
        print("\nlintian: %s" % ("; ".join(shown) or "clean"), end=" ")

    # The maintainer scripts.

    def test_maintainer_scripts_guards(self):
        for name in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control, name)
            self.assertTrue(os.access(path, os.X_OK), name)
            check(["sh", "-n", path])
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self.assertIn("set -e", text, name)
            # Root-relative, so that it can run against a staging root: a
            # path of the system is only ever named after $DPKG_ROOT (or in
            # a comment or a message).
            for line in text.splitlines():
                if line.lstrip().startswith(("#", "echo")):
                    continue
                for prefix in re.findall(r'(\S*)/(?:etc|run|usr/share)/', line):
                    self.assertTrue(prefix.endswith("$DPKG_ROOT"), "%s: %s" % (name, line))
        with open(os.path.join(self.control, "postinst"), encoding="utf-8") as f:
            postinst = f.read()
        self.assertIn("adduser --system", postinst)
        self.assertIn('if [ ! -e "$CONF" ]', postinst)
        self.assertIn('if [ ! -e "$SECRET" ]', postinst)
        self.assertIn("head -c 48 /dev/urandom | base64 -w0", postinst)
        # Migrations need a privileged database account: never run here.
        self.assertNotRegex(postinst, r"(?m)^\s*(/usr/bin/)?todod\b.*migrate")
        self.assertNotRegex(postinst, r"deb-systemd-invoke (start|restart)")

    def scripts_env(self, root):
        stubs = os.path.join(self.tmp, "stubs")
        log = os.path.join(self.tmp, "stub.log")
        os.makedirs(stubs, exist_ok=True)
        for name in STUBS:
            with open(os.path.join(stubs, name), "w") as f:
                f.write('#!/bin/sh\necho "%s $*" >>"$STUB_LOG"\nexit 0\n' % name)
            os.chmod(os.path.join(stubs, name), 0o755)
        env = {"PATH": stubs + ":/usr/bin:/bin", "DPKG_ROOT": root, "STUB_LOG": log,
               "LC_ALL": "C"}
        return env, log

    def maint(self, env, script, *args):
        r = run(["sh", os.path.join(self.control, script)] + list(args), env=env, timeout=60)
        self.assertEqual(r.returncode, 0, "%s %s: %s%s" % (script, args, r.stdout, r.stderr))
        return r.stderr

    def stub_calls(self, log):
        if not os.path.exists(log):
            return []
        with open(log) as f:
            calls = f.read().splitlines()
        os.unlink(log)
        return calls

    def test_maintainer_scripts_in_a_staging_root(self):
        root = os.path.join(self.tmp, "dpkg-root")
        shutil.copytree(self.files, root, symlinks=True)
        os.makedirs(os.path.join(root, "run/systemd/system"))
        env, log = self.scripts_env(root)
        etc = os.path.join(root, "etc/todod")
        conf = os.path.join(etc, "todod.conf")
        secret = os.path.join(etc, "jwt-secret")

        # First install.
        self.maint(env, "postinst", "configure")
        calls = self.stub_calls(log)
        self.assertTrue(any(c.startswith("adduser --system") and c.endswith(" todod") for c in calls), calls)
        self.assertIn("chown todod:todod %s.dpkg-new" % secret, calls)
        self.assertIn("chown root:todod %s.dpkg-new" % conf, calls)
        self.assertIn("deb-systemd-helper enable todod.service", calls)
        self.assertFalse([c for c in calls if c.startswith(("deb-systemd-invoke", "useradd"))], calls)
        self.assertEqual(os.stat(secret).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(conf).st_mode & 0o777, 0o640)
        self.assertEqual(os.stat(etc).st_mode & 0o777, 0o750)
        with open(secret, "rb") as f:
            raw = f.read()
        self.assertEqual(len(base64.b64decode(raw, validate=True)), 48)
        with open(conf, encoding="utf-8") as f:
            written = f.read()
        with open(os.path.join(root, "usr/share/todod/todod.conf"), encoding="utf-8") as f:
            self.assertEqual(written, f.read())
        lines = written.splitlines()
        self.assertIn("listen = unix:/run/todod/todod.sock", lines)
        self.assertIn("jwt_secret_file = /etc/todod/jwt-secret", lines)
        self.assertIn("sql_dir = /usr/share/todod/sql", lines)

        # An upgrade (or a second configure) keeps the administrator's files.
        with open(conf, "a") as f:
            f.write("workers = 4\n")
        os.chmod(secret, 0o400)
        with open(secret, "rb") as f:
            before = f.read()
        err = self.maint(env, "postinst", "configure", "0.0.1")
        self.assertIn("migrate", err)
        with open(conf, encoding="utf-8") as f:
            self.assertTrue(f.read().endswith("workers = 4\n"))
        with open(secret, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(os.stat(secret).st_mode & 0o777, 0o400)
        calls = self.stub_calls(log)
        self.assertFalse([c for c in calls if c.startswith("chown") and not c.endswith("/etc/todod")],
                         calls)

        # An upgrade leaves the running service alone; removal stops it.
        self.maint(env, "prerm", "upgrade", self.version)
        self.assertEqual(self.stub_calls(log), [])
        self.maint(env, "prerm", "remove")
        self.assertIn("deb-systemd-invoke stop todod.service", self.stub_calls(log))
        self.maint(env, "postrm", "remove")
        self.assertIn("deb-systemd-helper mask todod.service", self.stub_calls(log))
        self.assertTrue(os.path.exists(secret))
        self.maint(env, "postrm", "purge")
        self.assertIn("deb-systemd-helper purge todod.service", self.stub_calls(log))
        self.assertFalse(os.path.exists(etc))
        self.assertTrue(os.path.exists(os.path.join(root, "usr/share/todod/todod.conf")))

    def test_config_template_is_valid(self):
        # migrate reads the whole configuration (exit 2 on a bad setting),
        # then fails to reach the (absent) database: exit 1.
        env = {"PATH": "/usr/bin:/bin", "TODOD_DB_SOCKET": os.path.join(self.tmp, "no-such.sock")}
        r = run([os.path.join(self.files, "usr/bin/todod"), "-c",
                 os.path.join(self.files, "usr/share/todod/todod.conf"), "migrate"], env=env, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("connect", r.stderr)

    # The systemd unit.

    def unit_root(self):
        """A copy of the package's tree plus the host's targets and slices,
        which the unit's dependencies name: systemd-analyze --root looks
        there for everything, and for ExecStart's binary."""
        root = os.path.join(self.tmp, "unit-root")
        if not os.path.isdir(root):
            shutil.copytree(self.files, root, symlinks=True)
            units = os.path.join(root, "lib/systemd/system")
            for pattern in ("*.target", "*.slice"):
                for path in glob.glob(os.path.join("/lib/systemd/system", pattern)):
                    if os.path.isfile(path) and not os.path.islink(path):
                        shutil.copy(path, units)
        return root

    def test_unit_verifies(self):
        sa = shutil.which("systemd-analyze", path=SBIN_PATH)
        self.assertIsNotNone(sa, "systemd-analyze is missing (package systemd)")
        # --man=no: Documentation= names todod(1), which is in the staging
        # root, not on this machine's man path.
        r = run([sa, "verify", "--man=no", "--root=" + self.unit_root(), "todod.service"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stderr.strip(), "", r.stderr)

    def test_unit_exposure(self):
        sa = shutil.which("systemd-analyze", path=SBIN_PATH)
        self.assertIsNotNone(sa, "systemd-analyze is missing (package systemd)")
        # Exposure at most 2.0 of 10 ("OK"); the threshold is in tenths.
        r = run([sa, "security", "--offline=yes", "--threshold=20", "--no-pager",
                 "--root=" + self.unit_root(), "todod.service"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr)
        last = [line for line in r.stdout.splitlines() if "Overall exposure" in line]
        print("\n%s" % (last[0].strip() if last else "?"), end=" ")

    def test_unit_settings(self):
        pairs = unit_settings(os.path.join(self.files, "lib/systemd/system/todod.service"))
        settings = dict(pairs)
        self.assertEqual(settings["ExecStart"], "/usr/bin/todod -c /etc/todod/todod.conf serve")
        self.assertNotIn("ExecStartPre", settings)  # migrations need a privileged account
        self.assertEqual(settings["User"], "todod")
        self.assertEqual(settings["RuntimeDirectory"], "todod")
        self.assertEqual(settings["ProtectSystem"], "strict")
        self.assertEqual(settings["NoNewPrivileges"], "yes")
        self.assertEqual(settings["MemoryMax"], "256M")
        self.assertTrue(int(settings["LimitNOFILE"]) >= 4096)
        self.assertEqual(settings["CapabilityBoundingSet"], "")
        self.assertEqual(settings["WantedBy"], "multi-user.target")

    # meson install.

    def test_meson_install_layout(self):
        dest = os.path.join(self.tmp, "destdir")
        check(["meson", "install", "-C", self.pkg_build, "--no-rebuild", "--destdir", dest])
        got = tree(dest)
        for path in ("usr/bin/todod", "etc/todod/todod.conf", "usr/share/todod/sql/",
                     "usr/share/doc/todod/nginx.conf.sample", "usr/share/doc/todod/operations.md",
                     "usr/share/man/man1/todod.1", "usr/lib/systemd/system/todod.service"):
            self.assertIn(path, got)
        self.assertTrue(os.access(os.path.join(dest, "usr/bin/todod"), os.X_OK))
        sql = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "sql", "*.sql")))
        self.assertEqual(sorted(os.listdir(os.path.join(dest, "usr/share/todod/sql"))), sql)
        web = os.path.join(ROOT, "web")
        if os.path.isdir(web):
            self.assertEqual(tree(os.path.join(dest, "usr/share/todod/web")), tree(web))
        for repo, inst in (("nginx.conf.sample", "usr/share/doc/todod/nginx.conf.sample"),
                           ("conf/todod.conf.sample", None)):
            if inst:
                with open(os.path.join(ROOT, repo), "rb") as a, open(os.path.join(dest, inst), "rb") as b:
                    self.assertEqual(a.read(), b.read(), inst)
        # The installed configuration is the sample with this prefix's paths.
        with open(os.path.join(ROOT, "conf/todod.conf.sample"), encoding="utf-8") as f:
            sample = f.read().splitlines()
        with open(os.path.join(dest, "etc/todod/todod.conf"), encoding="utf-8") as f:
            installed = f.read().splitlines()
        changed = sorted(set(installed) - set(sample))
        self.assertEqual([line for line in changed if not line.startswith("#")],
                         ["jwt_secret_file = /etc/todod/jwt-secret", "sql_dir = /usr/share/todod/sql"])
        self.assertIn("listen = unix:/run/todod/todod.sock", installed)
        with open(os.path.join(dest, "usr/lib/systemd/system/todod.service"), encoding="utf-8") as f:
            unit = f.read()
        self.assertNotRegex(unit, r"@[a-z]+@")
        self.assertIn("ExecStart=/usr/bin/todod -c /etc/todod/todod.conf serve\n", unit)


if __name__ == "__main__":
    unittest.main()
