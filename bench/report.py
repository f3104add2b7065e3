#!/usr/bin/env python3
"""bench/report.py OUT: results.json and results.md from what bench/run.sh
left in OUT (facts, runs/order, runs/NAME.txt and NAME.meta, rss.log).
Prints the markdown. Standard library only.

Exit status 0 when every run produced numbers (wrk made requests, and, but
for the sign-in floods beside a list, not every answer was an error) and
the JSON is valid; 1 otherwise. Never a verdict on speed: the targets of
issue 12 are reported as met or not, nothing more.
"""

import re
import json
import os
import statistics
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "build/bench"
R = os.path.join(OUT, "runs")

DESCRIPTIONS = {
    "bare": "bare libfcgi (bench/bare.c), no keep-conn",
    "barekc": "bare libfcgi, keep-conn + upstream keepalive",
    "list20": "GET /api/todos, 20 of 20 + total",
    "seed": "the seed's stack stand-in (FastAPI + PyJWT, 2 uvicorn workers, no nginx), list20",
    "list100": "GET /api/todos?limit=50, 50 of 100",
    "list10k": "GET /api/todos?limit=50, 50 of 10,000",
    "get": "GET /api/todos/{id}",
    "mixed": "80/20 read/write over many users",
    "create": "POST /api/todos (durable)",
    "patch": "PATCH /api/todos/{id} (durable)",
    "signin": "POST /api/auth/sign-in/email, limit lifted",
    "signin-flood": "sign-in flood beside the list",
    "growth-list-1k": "GET /api/todos, DB of 1k todos",
    "growth-list-1m": "GET /api/todos, DB of 1M todos",
    "growth-get-1k": "GET /api/todos/{id}, DB of 1k todos",
    "growth-get-1m": "GET /api/todos/{id}, DB of 1M todos",
    "q": "GET /api/todos?q=invoice over 10,000 todos",
}
TAIL_CONNS = (8, 64, 256)


def kv_file(path):
    d = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if "=" in line:
                    k, v = line.split("=", 1)
                    d[k] = v
    except FileNotFoundError:
        pass
    return d


def num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return int(f) if f.is_integer() and "." not in str(v) else f


def kv_line(line):
    d = {}
    for part in line.split():
        if "=" in part:
            k, v = part.split("=", 1)
            d[k] = num(v)
    return d


def bench_line(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("BENCH "):
                    d = kv_line(line[6:])
                    st = {}
                    for item in str(d.get("status", "")).split(","):
                        if ":" in item:
                            code, n = item.split(":")
                            st[code] = int(n)
                    d["status"] = st
                    return d
    except FileNotFoundError:
        pass
    return None


def ratio(a, b, digits=3):
    if a is None or not b:
        return None
    return round(a / b, digits)


def mean(xs):
    xs = [x for x in xs if x is not None]
    return statistics.mean(xs) if xs else None


def fmt(v, spec=".2f", none="-"):
    if v is None:
        return none
    if isinstance(v, bool):
        return "pass" if v else "**fail**"
    return format(v, spec)


facts = kv_file(os.path.join(OUT, "facts"))
hz = float(facts.get("hz", 100))
nproc = int(facts.get("nproc", 1))

rss = []  # (t_ms, label, kib)
try:
    with open(os.path.join(OUT, "rss.log")) as f:
        for line in f:
            p = line.split()
            if len(p) == 3 and p[0].isdigit() and p[2].isdigit():
                rss.append((int(p[0]), p[1], int(p[2])))
except FileNotFoundError:
    pass

order = []
try:
    with open(os.path.join(R, "order")) as f:
        order = [x.strip() for x in f if x.strip()]
except FileNotFoundError:
    pass

problems = []
runs = []
for name in order:
    meta = kv_file(os.path.join(R, name + ".meta"))
    b = bench_line(os.path.join(R, name + ".txt"))
    if b is None:
        problems.append("%s: no BENCH line" % name)
        continue
    run = {
        "name": name,
        "group": meta.get("group"),
        "scenario": meta.get("scenario"),
        "description": DESCRIPTIONS.get(meta.get("scenario"), ""),
        "conns": int(meta.get("conns", 0)),
        "requests": b.get("requests"),
        "duration_s": b.get("duration_s"),
        "rps": b.get("rps"),
        "p50_ms": b.get("p50_ms"),
        "p99_ms": b.get("p99_ms"),
        "max_ms": b.get("max_ms"),
        "errors": b.get("errors"),
        "timeouts": b.get("timeouts"),
        "non2xx": b.get("non2xx"),
        "statuses": b.get("status") or None,
    }
    companion = meta.get("group") == "flood-signin"
    if not run["requests"]:
        problems.append("%s: no requests" % name)
    elif not companion and run["non2xx"] is not None and run["non2xx"] >= run["requests"]:
        problems.append("%s: every answer was an error (%s)" % (name, run["statuses"] or "non-2xx"))
    if "cpu_all" in meta and run["requests"]:
        cpu = {g: int(meta.get("cpu_" + g, 0)) / hz for g in
               ("nginx", "todod", "mariadb", "bare", "seed", "wrk", "all", "steal")}
        cpu["other"] = max(0.0, cpu["all"] - sum(cpu[g] for g in
                                                  ("nginx", "todod", "mariadb", "bare", "seed", "wrk")))
        wall = (int(meta["t1_ms"]) - int(meta["t0_ms"])) / 1000
        run["wall_s"] = round(wall, 3)
        run["cpu_s"] = {g: round(v, 2) for g, v in cpu.items()}
        run["cpu_s_per_1k"] = {g: round(1000 * cpu[g] / run["requests"], 4)
                               for g in ("nginx", "todod", "mariadb", "bare", "seed", "wrk", "other")}
        run["busy"] = round(cpu["all"] / (nproc * wall), 3) if wall > 0 else None
        fs = {}
        for key, label in (("db_Innodb_data_fsyncs", "data_fsyncs_per_s"),
                           ("db_Innodb_os_log_fsyncs", "os_log_fsyncs_per_s"),
                           ("db_Innodb_log_writes", "log_writes_per_s"),
                           ("db_Handler_commit", "commits_per_s")):
            if key in meta and wall > 0:
                fs[label] = round(int(meta[key]) / wall, 1)
        run["mariadb"] = fs
        t0, t1 = int(meta["t0_ms"]), int(meta["t1_ms"]) + 1000
        by = {}
        for t, label, kib in rss:
            if t0 <= t <= t1:
                by[label] = max(by.get(label, 0), kib)
        run["rss_max_kib"] = by
    nt = {
        "timeouts": run["timeouts"] == 0,
        "socket_errors": run["errors"] == 0,
        "non2xx": run["non2xx"] == 0,
        "p99_le_2x_p50": (run["p99_ms"] is not None and run["p50_ms"] is not None
                          and run["p99_ms"] <= 2 * run["p50_ms"]),
        "max_lt_500ms": run["max_ms"] is not None and run["max_ms"] < 500,
    }
    nt["pass"] = all(nt.values())
    run["no_tail"] = nt
    runs.append(run)


def find(scenario, conns=None, group=None):
    return [r for r in runs if r["scenario"] == scenario
            and (conns is None or r["conns"] == conns)
            and (group is None or r["group"] == group)]


def first(scenario, conns=None, group=None):
    f = find(scenario, conns, group)
    return f[0] if f else None


# Baselines: the matrix's bare runs, per connection count.
bares = {}
for r in runs:
    if r["group"] == "matrix" and r["scenario"] in ("bare", "barekc"):
        bares.setdefault(r["conns"], {})[r["scenario"]] = r["rps"]
for r in runs:
    b = bares.get(r["conns"], {})
    nk, kc = b.get("bare"), b.get("barekc")
    best = max([x for x in (nk, kc) if x], default=None)
    r["ratio_vs_bare_keepconn"] = ratio(r["rps"], kc)
    r["ratio_vs_bare_nokeepconn"] = ratio(r["rps"], nk)
    r["ratio_vs_best_bare"] = ratio(r["rps"], best)

# MariaDB alone (the store phase: bench-store-cost): the CPU MariaDB spent
# per data-layer call, and so the most it could serve with every core to
# itself, against the same run's best bare responder (c8 for the reads, c64
# for the writes, the connection counts of their targets).
STORE_BARE_CONNS = {"ping": 8, "get": 8, "list20": 8, "create": 64, "patch": 64, "toggle": 64}
store = {}
store_path = os.path.join(OUT, "store.txt")
if os.path.exists(store_path):
    with open(store_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("STORE "):
                d = kv_line(line[len("STORE "):])
                store[d.get("call")] = d
    if not store:
        problems.append("store.txt: no STORE line")
for call, d in store.items():
    ms = d.get("mariadb_ms")
    c = STORE_BARE_CONNS.get(call, 8)
    best = max([x for x in bares.get(c, {}).values() if x], default=None)
    d["ceiling_per_s"] = round(nproc * 1000 / ms) if isinstance(ms, (int, float)) and ms > 0 else None
    d["bare_conns"] = c
    d["ceiling_vs_best_bare"] = ratio(d["ceiling_per_s"], best)


def store_detail(call, share):
    """What the target leaves per request, against what it costs without
    todod: nginx and wrk in front of the faster bare responder (the same
    run, same connections) plus MariaDB alone."""
    d = store.get(call)
    if not d or d.get("ceiling_per_s") is None:
        return ""
    c = d["bare_conns"]
    b = bares.get(c, {})
    kind = max([k for k in b if b[k]], key=lambda k: b[k], default=None)
    text = ("; MariaDB alone (bench-store-cost, %s connections): %s ms of CPU per call, so at most %d/s"
            " with all %d cores to itself, %s x the best bare c%d" % (
                d.get("threads"), fmt(d.get("mariadb_ms"), ".3f"), d["ceiling_per_s"], nproc,
                fmt(d["ceiling_vs_best_bare"]), c))
    r = first(kind, c, "matrix") if kind else None
    cpu = (r or {}).get("cpu_s_per_1k")
    if cpu and b[kind]:
        budget = nproc * 1000 / (share * b[kind])
        floor = cpu["nginx"] + cpu["wrk"] + d["mariadb_ms"]
        d["budget_ms_at_target"] = round(budget, 4)
        d["floor_ms_without_todod"] = round(floor, 4)
        text += ("; at %.2fx that bare each request may use %.3f ms of CPU for everything, and nginx +"
                 " wrk in front of the bare responder (%.3f ms) + MariaDB alone already take %.3f ms"
                 " (%.0f%% of it) before todod's share" % (
                     share, budget, cpu["nginx"] + cpu["wrk"], floor, 100 * floor / budget))
    return text


targets = []


def target(name, value, met, detail=""):
    targets.append({"target": name, "value": value, "met": met, "detail": detail})


# 1. list 20 at c8 against the best bare.
l20 = first("list20", 8, "matrix")
if l20:
    v = l20["ratio_vs_best_bare"]
    target("GET /api/todos (20 of 20) c8 >= 0.40x the best bare", v, v is not None and v >= 0.40,
           "vs keep-conn bare %s, vs no-keep-conn bare %s%s" % (
               fmt(l20["ratio_vs_bare_keepconn"]), fmt(l20["ratio_vs_bare_nokeepconn"]),
               store_detail("list20", 0.40)))
# The seed's stack: bench/seed_fastapi.py straight under uvicorn (no nginx
# in front, so the most that stack can do) at the same connection count.
# The stand-in is not the seed itself: the issue measured the seed's stack
# at 0.035x the keep-conn bare, so the target holds only when todod's list
# is also above 10 x 0.035 = 0.35x the best bare.
# Against the stand-in's best connection count (at c8 it waits more than
# it works: p50 44 ms with the CPU idle), so that its slowness at one count
# does not flatter todod.
seeds = [r for r in find("seed", group="seed") if r["rps"]]
seed_best = max(seeds, key=lambda r: r["rps"]) if seeds else None
if l20 and seed_best:
    v = ratio(l20["rps"], seed_best["rps"])
    lb = l20["ratio_vs_best_bare"]
    target("GET /api/todos > 10x the seed's FastAPI stack (its stand-in at its best; and > 10 x 0.035x bare)", v,
           v is not None and v > 10 and lb is not None and lb > 0.35,
           "todod c8 %.0f req/s vs the stand-in's %.0f at c%d (%s); the issue measured the seed at 0.035 of"
           " the keep-conn bare, the stand-in is at %s of its bare; todod at %s of the best bare,"
           " 10x the issue's seed is 0.35" % (
               l20["rps"], seed_best["rps"], seed_best["conns"],
               ", ".join("c%d %.0f" % (r["conns"], r["rps"]) for r in seeds),
               fmt(seed_best["ratio_vs_best_bare"], ".3f"), fmt(lb)))
else:
    target("GET /api/todos > 10x the seed's FastAPI stack", None, None,
           "not measured: the FastAPI stand-in needs python3-fastapi python3-uvicorn python3-jwt python3-pymysql")

# 2. O(1) totals: 50 of 10k within 10% of 50 of 100: the alternated runs
# of the totals phase (and each connection count of the matrix, once each).
totals = {}
t10k, t100 = find("list10k", group="totals"), find("list100", group="totals")
if t10k and t100:
    v = ratio(mean([r["rps"] for r in t10k]), mean([r["rps"] for r in t100]))
    totals = {"conns": t10k[0]["conns"], "rps_50_of_10k": [r["rps"] for r in t10k],
              "rps_50_of_100": [r["rps"] for r in t100], "ratio": v}
    target("list 50 of 10k >= 0.90x list 50 of 100 (alternated, c%d)" % t10k[0]["conns"], v,
           v is not None and v >= 0.9, "mean %.0f vs %.0f req/s over %d rounds" % (
               mean(totals["rps_50_of_10k"]), mean(totals["rps_50_of_100"]), len(t10k)))
for c in sorted({r["conns"] for r in runs if r["group"] == "matrix"}):
    a, b = first("list10k", c, "matrix"), first("list100", c, "matrix")
    if a and b:
        v = ratio(a["rps"], b["rps"])
        totals["matrix_c%d" % c] = v
        target("list 50 of 10k >= 0.90x list 50 of 100, matrix c%d (one run each)" % c, v,
               v is not None and v >= 0.9, "%.0f vs %.0f req/s" % (a["rps"], b["rps"]))

# 3. Growth.
growth = {}
for kind in ("list", "get"):
    small = [r["rps"] for r in find("growth-%s-1k" % kind)]
    big = [r["rps"] for r in find("growth-%s-1m" % kind)]
    if small and big:
        v = ratio(mean(big), mean(small))
        growth[kind] = {"rps_1k": small, "rps_1m": big, "ratio_1m_vs_1k": v,
                        "p99_ms_1k": [r["p99_ms"] for r in find("growth-%s-1k" % kind)],
                        "p99_ms_1m": [r["p99_ms"] for r in find("growth-%s-1m" % kind)]}
        target("growth: %s with 1M todos >= 0.90x with 1k" % kind, v, v is not None and v >= 0.9,
               "mean %.0f vs %.0f req/s, c%d" % (mean(big), mean(small),
                                                 find("growth-%s-1m" % kind)[0]["conns"]))
q1, q8 = first("q", 1), first("q", 8)
if q1:
    growth["q_c1_p99_ms"] = q1["p99_ms"]
    target("q over 10k todos, c1 p99 < 50 ms", q1["p99_ms"], q1["p99_ms"] < 50)
if q8:
    growth["q_c8_rps"] = q8["rps"]
    target("q over 10k todos, c8 >= 100 req/s", q8["rps"], q8["rps"] >= 100)
for k in ("growth_load", "growth_verify_1k", "growth_verify_1m", "growth_seed_seconds",
          "growth_setup_seconds", "growth_users", "q_total"):
    if k in facts:
        growth[k] = num(facts[k])

# 4. Writes at c64.
writes = {"innodb_flush_log_at_trx_commit": num(facts.get("flush_log_at_trx_commit")),
          "innodb_os_log_fsyncs_available": facts.get("has_os_log_fsyncs") == "1"}
for s in ("create", "patch", "mixed"):
    r = first(s, 64, "matrix")
    if not r:
        continue
    ok_code = "201" if s == "create" else "200"
    okps = (r["statuses"] or {}).get(ok_code, 0) / r["duration_s"] if r["duration_s"] else None
    fs = r.get("mariadb", {}).get("data_fsyncs_per_s")
    writes[s] = {"rps": r["rps"], "ratio_vs_best_bare": r["ratio_vs_best_bare"],
                 "ratio_vs_bare_keepconn": r["ratio_vs_bare_keepconn"],
                 "ratio_vs_bare_nokeepconn": r["ratio_vs_bare_nokeepconn"],
                 "fsyncs_per_s": fs,
                 "log_writes_per_s": r.get("mariadb", {}).get("log_writes_per_s"),
                 "os_log_fsyncs_per_s": r.get("mariadb", {}).get("os_log_fsyncs_per_s"),
                 "writes_per_fsync": round(okps / fs, 2) if okps and fs else None}
    if s != "mixed":
        v = r["ratio_vs_best_bare"]
        target("durable %s c64 >= 0.25x bare" % s.upper().replace("CREATE", "POST"), v,
               v is not None and v >= 0.25 and writes["innodb_flush_log_at_trx_commit"] == 1,
               "vs keep-conn bare %s, vs no-keep-conn %s; %s fsyncs/s, %s writes per fsync;"
               " innodb_flush_log_at_trx_commit=%s%s" % (
                   fmt(r["ratio_vs_bare_keepconn"]), fmt(r["ratio_vs_bare_nokeepconn"]),
                   fmt(fs, ".0f"), fmt(writes[s]["writes_per_fsync"], ".1f"),
                   writes["innodb_flush_log_at_trx_commit"], store_detail(s, 0.25)))

# 5. No tail: every scenario but sign-in at 8, 64, 256.
tail_runs = [r for r in runs if r["group"] in ("matrix", "totals", "keepconn", "flood", "growth", "drift")
             and r["scenario"] not in ("signin", "signin-flood") and r["conns"] in TAIL_CONNS]
tail_fail = [r["name"] for r in tail_runs if not r["no_tail"]["pass"]]
target("no tail: every scenario but sign-in at 8/64/256 (0 timeouts, errors, non-2xx;"
       " p99 <= 2x p50; max < 500 ms)", "%d of %d pass" % (len(tail_runs) - len(tail_fail), len(tail_runs)),
       not tail_fail, ("failing: " + ", ".join(tail_fail)) if tail_fail else "")

# 6. Sign-in against the ceiling; libsodium against OpenSSL.
scrypt = {}
for label in ("scrypt_start", "scrypt_end"):
    if label in facts:
        scrypt[label] = kv_line(facts[label])


def scrypt_values(key):
    return [scrypt[k].get(key) for k in scrypt if isinstance(scrypt[k].get(key), (int, float))]


# OpenSSL as todod runs it: its hashing threads keep the 32 MiB buffer
# (kept_*); older results have only the allocate-per-hash figures.
OSSL_KEY = "kept" if scrypt_values("kept_cpu_ms") else "openssl"
ossl = scrypt_values(OSSL_KEY + "_cpu_ms")
ossl_wall = scrypt_values(OSSL_KEY + "_ms")
sodium = scrypt_values("sodium_cpu_ms")
sodium_wall = scrypt_values("sodium_ms")
# The library the stack's todod took at its start (its log line "scrypt:
# ... using X"); older results have none: OpenSSL.
m = re.search(r"using (\w+)", facts.get("todod_scrypt", ""))
todod_lib = m.group(1) if m else "openssl"
signin = {}
if ossl:
    hash_ms = statistics.median(sodium if todod_lib == "libsodium" and sodium else ossl)
    ceiling = nproc / (hash_ms / 1000)
    signin["todod_scrypt_library"] = todod_lib
    signin["todod_scrypt_log"] = facts.get("todod_scrypt") or None
    signin["hash_ms_cpu"] = hash_ms
    signin["ceiling_per_s"] = round(ceiling, 2)
    conc = int(facts.get("scrypt_concurrency", nproc))
    signin["ceiling_with_scrypt_concurrency_per_s"] = round(min(nproc, conc) / (hash_ms / 1000), 2)
    for r in find("signin", group="signin"):
        ok = (r["statuses"] or {}).get("200", 0)
        ok_rps = ok / r["duration_s"] if r["duration_s"] else 0
        entry = {"rps": r["rps"], "signed_in_per_s": round(ok_rps, 2),
                 "vs_ceiling": ratio(ok_rps, ceiling), "p50_ms": r["p50_ms"],
                 "statuses": r["statuses"]}
        cpu = r.get("cpu_s")
        if cpu and ok:
            # What one sign-in cost todod (one hash is hash_ms of it), and
            # how much of the machine went to processes outside the bench.
            entry["todod_cpu_ms_per_signin"] = round(1000 * cpu["todod"] / ok, 1)
            entry["hash_share_of_signin_cpu"] = ratio(hash_ms, 1000 * cpu["todod"] / ok)
            entry["machine_share_outside_bench"] = ratio(cpu["other"], nproc * r["wall_s"])
        signin["conns_%d" % r["conns"]] = entry
        if r["conns"] in (2, 3, 4):
            v = ratio(ok_rps, ceiling)
            target("sign-in c%d >= 0.9x ceiling (%s cores / %.0f ms)" % (r["conns"], nproc, hash_ms),
                   v, v is not None and v >= 0.9, "%.1f signed in/s, ceiling %.1f/s; todod CPU %s ms"
                   " per sign-in; %s of the machine went to processes outside the bench" % (
                       ok_rps, ceiling, fmt(entry.get("todod_cpu_ms_per_signin"), ".0f"),
                       fmt(entry.get("machine_share_outside_bench"))))
if sodium and ossl:
    identical = all(scrypt[k].get("identical") == 1 for k in scrypt)
    v = ratio(statistics.median(ossl_wall), statistics.median(sodium_wall))
    vc = ratio(statistics.median(ossl), statistics.median(sodium))
    scrypt["libsodium_speedup_wall"] = v
    scrypt["libsodium_speedup_cpu"] = vc
    scrypt["identical"] = identical
    # The issue: use libsodium when it is >= 1.3x faster with identical
    # keys. todod times both at its start and takes the faster (auto): met
    # when it took libsodium where libsodium is that much faster, or kept
    # OpenSSL where it is not.
    fast = v is not None and v >= 1.3 and identical
    target("libsodium >= 1.3x OpenSSL with identical bytes: then todod uses it", v,
           v is not None and identical and ((fast and todod_lib == "libsodium")
                                            or (v < 1.0 and todod_lib == "openssl")
                                            or 1.0 <= v < 1.3),
           "median %.0f vs %.0f ms wall (OpenSSL %s), CPU ratio %s; identical: %s; todod uses %s" % (
               statistics.median(sodium_wall), statistics.median(ossl_wall),
               "with its buffer kept, as todod" if OSSL_KEY == "kept" else "allocating per hash",
               fmt(vc), identical, todod_lib))

# 7. List beside a sign-in flood.
flood = {}
alone = first("list20", group="flood")
alone = next((r for r in runs if r["name"] == "flood-alone"), alone)
for name in ("flood-direct", "flood-nginx"):
    r = next((x for x in runs if x["name"] == name), None)
    s = next((x for x in runs if x["name"] == name + "-signin"), None)
    if r and alone:
        flood[name] = {"rps_vs_alone": ratio(r["rps"], alone["rps"]),
                       "p99_vs_alone": ratio(r["p99_ms"], alone["p99_ms"]),
                       "signin_statuses": s["statuses"] if s else None}
        if name == "flood-direct":
            a, p = flood[name]["rps_vs_alone"], flood[name]["p99_vs_alone"]
            target("list beside a sign-in flood past nginx: rate >= 0.8x, p99 <= 2x alone",
                   {"rps": a, "p99": p}, a is not None and p is not None and a >= 0.8 and p <= 2,
                   "%.0f vs %.0f req/s, p99 %.1f vs %.1f ms" % (r["rps"], alone["rps"], r["p99_ms"], alone["p99_ms"]))

# 8. RSS.
limit_kib = (64 + 33 * int(facts.get("scrypt_concurrency", 2))) * 1024
rss_max = {}
for _, label, kib in rss:
    rss_max[label] = max(rss_max.get(label, 0), kib)
rss_info = {"max_kib": rss_max, "limit_kib": limit_kib, "samples": len(rss),
            "limit": "64 MiB + scrypt_concurrency (%s) x 33 MiB" % facts.get("scrypt_concurrency")}
if rss_max:
    worst = max(rss_max.values())
    target("todod RSS < %d MiB at every sample" % (limit_kib // 1024), "%.1f MiB" % (worst / 1024),
           worst < limit_kib, ", ".join("%s %.1f MiB" % (k, v / 1024) for k, v in sorted(rss_max.items())))

# 9. Keep-conn.
keepconn = {}
nk = find("list20", group="keepconn")
nkr = [r for r in nk if r["name"].startswith("kc-nk-")]
kcr = [r for r in nk if r["name"].startswith("kc-kc-")]
if nkr and kcr:
    v = ratio(mean([r["rps"] for r in kcr]), mean([r["rps"] for r in nkr]))
    keepconn = {"conns": nkr[0]["conns"], "keepalive": num(facts.get("keepalive")),
                "nginx_workers": num(facts.get("nginx_workers")),
                "todod_workers": num(facts.get("todod_workers")),
                "rps_no_keepconn": [r["rps"] for r in nkr], "rps_keepconn": [r["rps"] for r in kcr],
                "p99_no_keepconn": [r["p99_ms"] for r in nkr], "p99_keepconn": [r["p99_ms"] for r in kcr],
                "ratio_keepconn_vs_not": v,
                "todod_cpu_s_per_1k_no_keepconn": mean([r.get("cpu_s_per_1k", {}).get("todod") for r in nkr]),
                "todod_cpu_s_per_1k_keepconn": mean([r.get("cpu_s_per_1k", {}).get("todod") for r in kcr]),
                "nginx_cpu_s_per_1k_no_keepconn": mean([r.get("cpu_s_per_1k", {}).get("nginx") for r in nkr]),
                "nginx_cpu_s_per_1k_keepconn": mean([r.get("cpu_s_per_1k", {}).get("nginx") for r in kcr])}
    p99k, p99n = mean(keepconn["p99_keepconn"]), mean(keepconn["p99_no_keepconn"])
    keepconn["p99_ratio_keepconn_vs_not"] = ratio(p99k, p99n)
    if p99k > 2 * p99n:
        keepconn["verdict"] = ("keep-conn: %s x the req/s but %s x the p99: a tail, so no keep-conn"
                               % (fmt(v), fmt(ratio(p99k, p99n), ".1f")))
    else:
        keepconn["verdict"] = ("keep-conn faster" if v >= 1.05 else
                               "keep-conn slower" if v <= 0.95 else "no difference beyond 5 %")
bare_kc = {c: ratio(b.get("barekc"), b.get("bare")) for c, b in sorted(bares.items())}

result = {
    "generated_by": "bench/run.sh + bench/report.py",
    "facts": {k: num(v) for k, v in facts.items()},
    "scenarios": runs,
    "baselines": {str(c): b for c, b in sorted(bares.items())},
    "bare_keepconn_vs_not": {str(c): v for c, v in bare_kc.items()},
    "keepconn": keepconn,
    "totals": totals,
    "writes": writes,
    "store": store,
    "growth": growth,
    "signin": signin,
    "scrypt": scrypt,
    "flood": flood,
    "rss": rss_info,
    "targets": targets,
    "problems": problems,
    "harness_ok": not problems,
}
text = json.dumps(result, indent=1, sort_keys=False)
json.loads(text)
with open(os.path.join(OUT, "results.json"), "w", encoding="utf-8") as f:
    f.write(text + "\n")

# --- markdown --------------------------------------------------------------
md = []
w = md.append
w("bench/run.sh (%s), %s, %s CPUs, commit %s%s, stack: %s; load average before %s, after %s" % (
    facts.get("mode"), facts.get("date"), nproc, facts.get("git_head"),
    " + %s changed files" % facts["git_dirty"] if facts.get("git_dirty", "0") != "0" else "",
    facts.get("stack"), facts.get("loadavg_before"), facts.get("loadavg_after")))
w("")
w("each run %ss, wrk -t%s --latency; todod %s workers, bench-bare %s threads; nginx %s worker"
  " processes (nginx %s), keep-conn = fastcgi_keep_conn on + upstream keepalive %s; MariaDB %s,"
  " innodb_flush_log_at_trx_commit=%s; list20 body %s bytes, list10k page %s bytes; whole run %ss" % (
      facts.get("seconds"), facts.get("wrk_threads"), facts.get("todod_workers"),
      facts.get("bare_threads"), facts.get("nginx_workers"), facts.get("nginx_version"),
      facts.get("keepalive"), facts.get("mariadb_version"), facts.get("flush_log_at_trx_commit"),
      facts.get("list20_bytes"), facts.get("list10k_bytes"), facts.get("seconds_total")))
w("")
w("| run | what | conns | req/s | p50 ms | p99 ms | max ms | non-2xx | sock err | timeouts |"
  " p99<=2xp50 | max<500 | vs best bare | vs bare kc | vs bare no-kc |"
  " CPU s/1k req nginx / todod / MariaDB | fsync/s | outside |")
w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---|---:|---:|")
for r in runs:
    c = r.get("cpu_s_per_1k")
    cs = r.get("cpu_s")
    w("| %s | %s | %d | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r["name"], r["description"], r["conns"], r["rps"] or 0, fmt(r["p50_ms"]), fmt(r["p99_ms"]),
        fmt(r["max_ms"]), r["non2xx"], r["errors"], r["timeouts"],
        fmt(r["no_tail"]["p99_le_2x_p50"]), fmt(r["no_tail"]["max_lt_500ms"]),
        fmt(r["ratio_vs_best_bare"]), fmt(r["ratio_vs_bare_keepconn"]),
        fmt(r["ratio_vs_bare_nokeepconn"]),
        ("%.3f / %.3f / %.3f" % (c["nginx"], c["todod"], c["mariadb"])) if c else "-",
        fmt(r.get("mariadb", {}).get("data_fsyncs_per_s"), ".0f"),
        ("%.0f%%" % (100 * cs["other"] / cs["all"])) if cs and cs["all"] else "-"))
w("")
w("non-2xx: answers >= 400 (sign-in: 429s are todod or nginx shedding); CPU s/1k req: CPU seconds"
  " of all nginx workers, all todods, MariaDB per 1,000 requests of that run (bare runs: the"
  " server's share is bench-bare's, in results.json); fsync/s: MariaDB Innodb_data_fsyncs"
  " (which in MariaDB 10.11 counts the redo log's fsyncs too); outside: the share of the"
  " machine's busy CPU time that no process of the bench (nginx, todod, MariaDB, bench-bare,"
  " wrk) used: other load on the shared cores (and the kernel's own work, some 5 %%).")
w("")
w("## Targets of issue 12")
w("")
w("| target | value | met | detail |")
w("|---|---|---|---|")
for t in targets:
    v = t["value"]
    if isinstance(v, dict):
        v = ", ".join("%s %s" % (k, fmt(x)) for k, x in v.items())
    elif isinstance(v, float):
        v = fmt(v)
    w("| %s | %s | %s | %s |" % (t["target"], "-" if v is None else v,
                                  "-" if t["met"] is None else ("yes" if t["met"] else "**no**"),
                                  t["detail"]))
w("")
if keepconn:
    w("## FastCGI keep-conn (list20 c%d, %d rounds, ABAB)" % (keepconn["conns"], len(nkr)))
    w("")
    w("- todod without keep-conn: %s req/s (p99 %s ms); with keep-conn (keepalive %s x %s nginx"
      " workers < %s workers): %s req/s (p99 %s ms); ratio %s: %s" % (
          ", ".join("%.0f" % x for x in keepconn["rps_no_keepconn"]),
          ", ".join("%.1f" % x for x in keepconn["p99_no_keepconn"]), keepconn["keepalive"],
          keepconn["nginx_workers"], keepconn["todod_workers"],
          ", ".join("%.0f" % x for x in keepconn["rps_keepconn"]),
          ", ".join("%.1f" % x for x in keepconn["p99_keepconn"]),
          fmt(keepconn["ratio_keepconn_vs_not"]), keepconn["verdict"]))
    w("- CPU s per 1,000 requests, todod: %s without, %s with; nginx: %s without, %s with" % (
        fmt(keepconn["todod_cpu_s_per_1k_no_keepconn"], ".3f"), fmt(keepconn["todod_cpu_s_per_1k_keepconn"], ".3f"),
        fmt(keepconn["nginx_cpu_s_per_1k_no_keepconn"], ".3f"), fmt(keepconn["nginx_cpu_s_per_1k_keepconn"], ".3f")))
if bare_kc:
    w("- bare keep-conn / bare no-keep-conn: " + ", ".join("c%d %s" % (c, fmt(v)) for c, v in bare_kc.items()))
w("")
if scrypt:
    w("## scrypt (N=16384, r=16, p=1, 64-byte key)")
    w("")
    for k in ("scrypt_start", "scrypt_end"):
        if k in scrypt:
            s = scrypt[k]
            w("- %s (%s rounds, medians): OpenSSL %s ms (CPU %s) allocating per hash, %s ms (CPU %s)"
              " with its buffer kept (as todod), libsodium %s ms (CPU %s), identical to the Node vector: %s" % (
                k, s.get("rounds"), s.get("openssl_ms"), s.get("openssl_cpu_ms"), s.get("kept_ms", "-"),
                s.get("kept_cpu_ms", "-"), s.get("sodium_ms"), s.get("sodium_cpu_ms"), s.get("identical")))
    if signin:
        w("- todod's scrypt: %s (%s)" % (signin["todod_scrypt_library"], signin["todod_scrypt_log"] or "no log line"))
    w("- ceiling = %d cores / %.1f ms = %.1f sign-ins/s; %s" % (
            nproc, signin["hash_ms_cpu"], signin["ceiling_per_s"],
            ", ".join("%s: %.1f/s (%s x ceiling)" % (k, v["signed_in_per_s"], fmt(v["vs_ceiling"]))
                      for k, v in signin.items() if k.startswith("conns_"))))
    w("")
if writes.get("create") or writes.get("patch"):
    w("## Writes (c64)")
    w("")
    for s in ("create", "patch", "mixed"):
        if s in writes:
            x = writes[s]
            w("- %s: %.0f req/s, %s x best bare; %s fsyncs/s (log writes %s/s), %s committed writes per fsync" % (
                s, x["rps"], fmt(x["ratio_vs_best_bare"]), fmt(x["fsyncs_per_s"], ".0f"),
                fmt(x["log_writes_per_s"], ".0f"), fmt(x["writes_per_fsync"], ".1f")))
    w("- innodb_flush_log_at_trx_commit = %s; Innodb_os_log_fsyncs %s" % (
        writes["innodb_flush_log_at_trx_commit"],
        "present" if writes["innodb_os_log_fsyncs_available"] else
        "does not exist in this MariaDB (10.11 counts log fsyncs in Innodb_data_fsyncs)"))
    w("")
if store:
    w("## MariaDB alone (bench-store-cost: todod's data layer called straight, no nginx or FastCGI)")
    w("")
    w("| call | connections | calls/s | MariaDB CPU ms per call | at most /s on %d cores | vs best bare |" % nproc)
    w("|---|---:|---:|---:|---:|---|")
    for call, d in store.items():
        w("| %s | %s | %s | %s | %s | %s (c%d) |" % (
            call, d.get("threads"), fmt(d.get("calls_per_s"), ".0f"), fmt(d.get("mariadb_ms"), ".4f"),
            fmt(d.get("ceiling_per_s"), ".0f"), fmt(d.get("ceiling_vs_best_bare")), d["bare_conns"]))
    w("")
    w("calls/s is with bench-store-cost's own threads on the same cores; \"at most\" is the cores"
      " divided by MariaDB's CPU per call: what MariaDB could serve if nothing else ran, an upper"
      " bound on the same request through nginx and todod.")
    w("")
if growth:
    w("## Growth")
    w("")
    w("- seeding: %s; %s; %s; load + verify %ss, whole setup %ss" % (
        growth.get("growth_load"), growth.get("growth_verify_1m"), growth.get("growth_verify_1k"),
        growth.get("growth_seed_seconds"), growth.get("growth_setup_seconds")))
    for kind in ("list", "get"):
        if kind in growth:
            g = growth[kind]
            w("- %s: 1k %s req/s, 1M %s req/s, ratio %s" % (
                kind, ", ".join("%.0f" % x for x in g["rps_1k"]),
                ", ".join("%.0f" % x for x in g["rps_1m"]), fmt(g["ratio_1m_vs_1k"])))
    if "q_c1_p99_ms" in growth or "q_c8_rps" in growth:
        w("- q=invoice (total %s of 10,000): c1 p99 %s ms, c8 %s req/s" % (
            growth.get("q_total"), fmt(growth.get("q_c1_p99_ms")), fmt(growth.get("q_c8_rps"), ".0f")))
    w("")
w("## RSS and logs")
w("")
w("- RSS max (%d samples, 1 s apart): %s; limit %.0f MiB (%s)" % (
    len(rss), ", ".join("%s %.1f MiB" % (k, v / 1024) for k, v in sorted(rss_max.items())) or "-",
    limit_kib / 1024, rss_info["limit"]))
w("- todod logs during the run: %s error, %s warn lines, %s answers 5xx; bench nginx: %s error lines"
  " (besides 'limiting requests')" % (facts.get("todod_log_errors"), facts.get("todod_log_warns"),
                                      facts.get("todod_log_5xx"), facts.get("nginx_error_lines")))
if problems:
    w("")
    w("**Harness problems:** " + "; ".join(problems))
text_md = "\n".join(md) + "\n"
with open(os.path.join(OUT, "results.md"), "w", encoding="utf-8") as f:
    f.write(text_md)
sys.stdout.write(text_md)
if problems:
    print("bench/report.py: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
