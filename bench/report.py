#!/usr/bin/env python3
"""bench/report.py: turns the raw outputs of bench/run.sh in OUT (micro.json from Google
Benchmark, e2e.jsonl, eom/*.txt, memory.json, phases.tsv) into results.json, results.md
and two gnuplot plots (throughput.svg, cpu_vs_size.svg) and summary.md (the short table
for the README).

  report.py --out OUT [--machine TEXT]   write the report
  report.py --out OUT --check            exit 1 unless the outputs exist, parse, and
                                         every end-to-end run was valid (counts match)
"""
import argparse
import json
import os
import subprocess
import sys
import time

KB = 1024
MB = 1024 * 1024
PHASES = ("setup", "micro", "e2e", "sweep", "memory", "report")
MILTERS = ("null", "opendkim", "sign", "enc1", "enc3", "verify")  # rows with a milter process
SMIME = ("sign", "enc1", "enc3", "verify")
CPU_TARGET = 1.25


def load(out):
    with open(os.path.join(out, "micro.json")) as f:
        micro = json.load(f)
    runs = []
    with open(os.path.join(out, "e2e.jsonl")) as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))
    with open(os.path.join(out, "memory.json")) as f:
        memory = json.load(f)
    return micro, runs, memory


def percentile(values, p):
    """Nearest rank, as lib.sh's percentile for Postfix's delays."""
    if not values:
        return None
    v = sorted(values)
    i = min(len(v), max(1, int(p / 100 * len(v) + 0.999999)))
    return v[i - 1]


def add_eom(out, runs):
    """p50/p99 of the milter's own per-message end-of-message time (eom_ms lines that
    lib.sh copied from the milter's log into OUT/eom/); None where the filter logs none."""
    for r in runs:
        values = []
        name = r.get("eom_file")
        if name:
            with open(os.path.join(out, name)) as f:
                values = [float(x) for x in f.read().split()]
        r["eom_ms_count"] = len(values)
        r["eom_ms_p50"] = percentile(values, 50)
        r["eom_ms_p99"] = percentile(values, 99)


def load_phases(out):
    """{phase: seconds} from OUT/phases.tsv (run.sh appends "PHASE SECONDS"; a later
    invocation into the same OUT, e.g. --sweep-only, overrides what it ran again)."""
    phases = {}
    try:
        with open(os.path.join(out, "phases.tsv")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    phases[parts[0]] = float(parts[1])
    except OSError:
        pass
    return phases


def phase_line(phases):
    known = [p for p in PHASES if p in phases] + sorted(set(phases) - set(PHASES))
    parts = [f"{p} {phases[p]:.0f}" for p in known]
    return (f"Wall clock per phase (s): {', '.join(parts)}; total {sum(phases.values()):.0f} "
            f"({sum(phases.values()) / 60:.1f} min)")


def micro_pairs(micro):
    """{name-without-/ours|/raw: {"ours": us, "raw": us}} from cpu_time."""
    pairs = {}
    for b in micro.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        name = b["name"]
        base, _, side = name.rpartition("/")
        unit = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
        pairs.setdefault(base, {})[side] = b["cpu_time"] * unit
    rows = []
    for base, v in pairs.items():
        if "ours" in v and "raw" in v:
            rows.append({"name": base, "ours_us": v["ours"], "raw_us": v["raw"],
                         "ratio": v["ours"] / v["raw"] if v["raw"] else None})
    return rows


def find_run(runs, cfg, sock, sessions, size=10240):
    for r in runs:
        if (r["config"], r["socket"], r["sessions"], r["size"]) == (cfg, sock, sessions, size):
            return r
    return None


def add_ratios(runs):
    for r in runs:
        for base in ("none", "null"):
            ref = find_run(runs, base, "-" if base == "none" else r["socket"], r["sessions"], r["size"])
            if base == "null" and r["socket"] == "-":
                ref = find_run(runs, "null", "unix", r["sessions"], r["size"])
            r[f"ratio_{base}"] = (r["msgs_per_s"] / ref["msgs_per_s"]) if ref and ref["msgs_per_s"] else None
        # Milter CPU above the null milter's in the same socket/sessions/size cell: what
        # the filter adds to the libmilter protocol and thread-per-connection cost.
        null = find_run(runs, "null", r["socket"], r["sessions"], r["size"])
        if r["config"] in MILTERS and r["config"] != "null" and null:
            r["null_cpu_ms_per_msg"] = null["filter_cpu_ms_per_msg"]
            r["filter_cpu_net_ms_per_msg"] = r["filter_cpu_ms_per_msg"] - null["filter_cpu_ms_per_msg"]
        else:
            r["null_cpu_ms_per_msg"] = None
            r["filter_cpu_net_ms_per_msg"] = None


def raw_cost_ms(pairs, names):
    by = {p["name"]: p for p in pairs}
    if not all(n in by for n in names):
        return None
    return sum(by[n]["raw_us"] for n in names) / 1000.0


RAW_OPS = {  # the raw OpenSSL CMS operations (micro names) each configuration performs
    "sign": ["sign/rsa2048/10240"],
    "enc1": ["sign/rsa2048/10240", "encrypt/rsa2048/10240/r1/cbc"],
    "enc3": ["sign/rsa2048/10240", "encrypt/rsa2048/10240/r3/cbc"],
    "verify": ["verify/rsa2048/10240"],
}


def cpu_rows(runs, pairs):
    """Milter CPU per 10 KB message against the raw CMS cost, for every socket/sessions
    cell: total (the whole milter process) and net of the null milter's CPU."""
    rows = []
    for cfg, names in RAW_OPS.items():
        raw = raw_cost_ms(pairs, names)
        for r in runs:
            if r["config"] != cfg or r["size"] != 10240:
                continue
            total = r["filter_cpu_ms_per_msg"]
            net = r["filter_cpu_net_ms_per_msg"]
            rows.append({"config": cfg, "socket": r["socket"], "sessions": r["sessions"],
                         "raw_ms": raw, "total_ms": total, "null_ms": r["null_cpu_ms_per_msg"],
                         "net_ms": net,
                         "total_x_raw": total / raw if raw else None,
                         "net_x_raw": net / raw if raw and net is not None else None,
                         "valid": r["valid"]})
    return rows


def cpu_targets(runs, pairs):
    out = []
    for c in cpu_rows(runs, pairs):
        if c["raw_ms"] is None:
            continue
        cell = f"{c['config']} ({c['socket']}, {c['sessions']} sessions)"
        out.append({"target": f"{cell}: milter CPU per message <= {CPU_TARGET} x raw OpenSSL CMS, total "
                              f"({c['total_ms']:.3f} ms vs {c['raw_ms']:.3f} ms)",
                    "kind": "cpu", "basis": "total", "value": round(c["total_x_raw"], 3),
                    "met": c["total_x_raw"] <= CPU_TARGET and c["valid"]})
        if c["net_x_raw"] is not None:
            out.append({"target": f"{cell}: milter CPU per message <= {CPU_TARGET} x raw OpenSSL CMS, "
                                  f"net of the null milter's protocol cost ({c['net_ms']:.3f} ms "
                                  f"vs {c['raw_ms']:.3f} ms)",
                        "kind": "cpu", "basis": "net of null milter", "value": round(c["net_x_raw"], 3),
                        "met": c["net_x_raw"] <= CPU_TARGET and c["valid"]})
    return out


def targets(runs, pairs, memory):
    out = []
    socks = sorted({r["socket"] for r in runs if r["socket"] != "-"})
    sessions = sorted({r["sessions"] for r in runs})
    for sock in socks:
        for s in sessions:
            null = find_run(runs, "null", sock, s)
            dkim = find_run(runs, "opendkim", sock, s)
            for cfg, need in (("enc1", 0.90), ("enc3", 0.90), ("verify", 0.95)):
                r = find_run(runs, cfg, sock, s)
                if not r:
                    continue
                if null:
                    v = r["msgs_per_s"] / null["msgs_per_s"]
                    out.append({"target": f"{cfg} >= {need:.2f} x null-milter ({sock}, {s} sessions)",
                                "value": round(v, 3), "met": v >= need and r["valid"] and null["valid"]})
                if dkim:
                    v = r["msgs_per_s"] / dkim["msgs_per_s"]
                    out.append({"target": f"{cfg} >= 1.10 x OpenDKIM ({sock}, {s} sessions)",
                                "value": round(v, 3), "met": v >= 1.10 and r["valid"] and dkim["valid"]})
    out += cpu_targets(runs, pairs)
    big = memory["big_message_bytes"]
    limit_kb = (2 * big + 30 * MB) / KB
    out.append({"target": f"peak RSS with one {big / 1e6:.0f} MB message <= 2 x size + 30 MB "
                          f"({limit_kb / KB:.0f} MB)",
                "value": round(memory["big_peak_rss_kb"] / KB, 1),
                "met": memory["big_peak_rss_kb"] <= limit_kb and memory["big_delivered_signed"]})
    out.append({"target": "peak RSS with 100 idle connections <= 100 MB",
                "value": round(memory["idle_peak_rss_kb"] / KB, 1),
                "met": memory["idle_peak_rss_kb"] <= 100 * KB and
                memory["idle_detail"]["negotiated"] == memory["idle_connections"]})
    return out


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def pair(a, b, spec):
    return "-" if a is None and b is None else f"{fmt(a, spec)}/{fmt(b, spec)}"


def cpu_table(rows):
    L = [f"| config | socket | sessions | raw CMS ms | total ms | total x raw | <= {CPU_TARGET} | "
         f"null milter ms | net ms | net x raw | <= {CPU_TARGET} |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in rows:
        def met(x):
            return "-" if x is None else ("met" if x <= CPU_TARGET and c["valid"] else "NOT MET")
        L.append(f"| {c['config']} | {c['socket']} | {c['sessions']} | {fmt(c['raw_ms'], '.3f')} "
                 f"| {fmt(c['total_ms'], '.3f')} | {fmt(c['total_x_raw'], '.2f')} | {met(c['total_x_raw'])} "
                 f"| {fmt(c['null_ms'], '.3f')} | {fmt(c['net_ms'], '.3f')} | {fmt(c['net_x_raw'], '.2f')} "
                 f"| {met(c['net_x_raw'])} |")
    return L


CPU_NOTE = ("Milter CPU per message against the raw OpenSSL CMS operations it performs (micro "
            "`raw` rows, same run): **total** = the whole milter process (utime+stime / messages); "
            "**net of the null milter's protocol cost** = total minus the null milter's CPU per "
            "message in the same socket/sessions cell (libmilter protocol, thread per connection, "
            "one log line per message: what every milter pays).")


def target_table(tgts):
    L = ["| target | measured | met |", "|---|---|---|"]
    for t in tgts:
        if t.get("kind") != "cpu":
            L.append(f"| {t['target']} | {t['value']} | {'met' if t['met'] else 'NOT MET'} |")
    return L


def markdown(machine, runs, pairs, memory, tgts, phases):
    L = [f"Machine: {machine}", "", phase_line(phases), ""]
    L += ["### End to end (smtp-source -> Postfix -> smtp-sink, loopback)", "",
          "| config | socket | sessions | size | msgs/s | x none | x null | milter eom_ms p50/p99 "
          "| MTA view: delays a p50/p99 (s) | MTA view: total p50/p99 (s) | filter CPU ms/msg "
          "| net of null ms/msg | peak RSS MB | Postfix warnings | valid |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        rss = r["peak_rss_kb"] / KB if r["peak_rss_kb"] else None
        cpu = r["filter_cpu_ms_per_msg"] if r["config"] != "none" else None
        L.append(f"| {r['config']} | {r['socket']} | {r['sessions']} | {r['size'] // KB} KB "
                 f"| {r['msgs_per_s']:.0f} | {fmt(r['ratio_none'], '.2f')} | {fmt(r['ratio_null'], '.2f')} "
                 f"| {pair(r['eom_ms_p50'], r['eom_ms_p99'], '.2f')} "
                 f"| {r['latency_a_p50_s']}/{r['latency_a_p99_s']} | {r['latency_total_p50_s']}/{r['latency_total_p99_s']} "
                 f"| {fmt(cpu, '.3f')} | {fmt(r['filter_cpu_net_ms_per_msg'], '.3f')} | {fmt(rss, '.1f')} "
                 f"| {r['postfix_warnings']} | {'yes' if r['valid'] else 'NO: ' + r['invalid_reason']} |")
    L += ["", "Latency: **milter eom_ms** is the milter's own timing, logged per message: the "
          "milliseconds the MTA waited for its end-of-message callback (smime-milter: decision, "
          "crypto, audit record; null milter, `-t`: its header and reply); p50/p99 over every "
          "message of the run; `-` where the filter logs no such timing (Postfix alone, OpenDKIM, "
          "the CLI content filter). **MTA view**: Postfix's `delays=` (a = before the queue "
          "manager, i.e. SMTP receipt including every milter round trip; total = a+b+c+d; "
          "Postfix rounds to 10 ms), for every row. Filter CPU: utime+stime of the filter "
          "process (/proc/PID/stat) over the run / messages; for `cli` the CPU of the filter "
          "scripts and their openssl children. Net of null: filter CPU minus the null milter's "
          "in the same socket/sessions cell.", ""]
    L += ["### Milter CPU per message (10 KB) against raw OpenSSL CMS", "", CPU_NOTE, ""]
    L += cpu_table(cpu_rows(runs, pairs))
    L += ["", "### Targets", "", "(milter CPU: the table above)", ""] + target_table(tgts)
    L += ["", "### Memory (smime-milter VmHWM)", "",
          f"- idle: {memory['baseline_rss_kb'] / KB:.1f} MB; with {memory['idle_connections']} idle connections "
          f"({memory['idle_detail']['negotiated']} negotiated): {memory['idle_peak_rss_kb'] / KB:.1f} MB",
          f"- one {memory['big_message_bytes'] / 1e6:.0f} MB message (signed, delivered: "
          f"{memory['big_delivered_signed']}): peak {memory['big_peak_rss_kb'] / KB:.1f} MB "
          f"(before: {memory['big_before_rss_kb'] / KB:.1f} MB)", ""]
    L += ["### Micro (CPU time per operation; ours = smime/, raw = the OpenSSL CMS calls)", "",
          "| operation/key/bytes[/recipients/cipher] | ours (us) | raw OpenSSL (us) | ours/raw |",
          "|---|---|---|---|"]
    for p in pairs:
        L.append(f"| {p['name']} | {p['ours_us']:.1f} | {p['raw_us']:.1f} | {fmt(p['ratio'], '.2f')} |")
    return "\n".join(L) + "\n"


def summary(machine, runs, pairs, memory, tgts, phases):
    """The short version for the top-level README: throughput, latency, CPU, targets,
    memory and the 10 KB RSA-2048 micro rows."""
    L = [f"Machine: {machine}", "", phase_line(phases), "",
         "| config | socket | sessions | msgs/s | x none | x null | eom_ms p50/p99 | MTA view: a p50/p99 (s) "
         "| filter CPU ms/msg | net of null | peak RSS MB | valid |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        if r["size"] != 10240:
            continue
        rss = r["peak_rss_kb"] / KB if r["peak_rss_kb"] else None
        cpu = r["filter_cpu_ms_per_msg"] if r["config"] != "none" else None
        L.append(f"| {r['config']} | {r['socket']} | {r['sessions']} | {r['msgs_per_s']:.0f} "
                 f"| {fmt(r['ratio_none'], '.2f')} | {fmt(r['ratio_null'], '.2f')} "
                 f"| {pair(r['eom_ms_p50'], r['eom_ms_p99'], '.2f')} "
                 f"| {r['latency_a_p50_s']}/{r['latency_a_p99_s']} | {fmt(cpu, '.2f')} "
                 f"| {fmt(r['filter_cpu_net_ms_per_msg'], '.2f')} | {fmt(rss, '.0f')} "
                 f"| {'yes' if r['valid'] else 'NO'} |")
    L += [""] + cpu_table(cpu_rows(runs, pairs)) + [""] + target_table(tgts)
    L += ["", "| micro, RSA-2048 | ours (us) | raw OpenSSL (us) | ours/raw |", "|---|---|---|---|"]
    for p in pairs:
        if p["name"] in ("sign/rsa2048/10240", "verify/rsa2048/10240", "decrypt/rsa2048/10240/r1/cbc",
                         "encrypt/rsa2048/10240/r1/cbc", "encrypt/rsa2048/10240/r3/cbc",
                         "sign/rsa2048/1048576", "decrypt/rsa2048/1048576/r1/cbc"):
            L.append(f"| {p['name']} | {p['ours_us']:.0f} | {p['raw_us']:.0f} | {fmt(p['ratio'], '.2f')} |")
    return "\n".join(L) + "\n"


def gnuplot(out, runs, pairs):
    tp = os.path.join(out, "throughput.dat")
    with open(tp, "w") as f:
        for r in runs:
            if r["size"] == 10240:
                f.write(f"\"{r['config']}/{r['socket']}/s{r['sessions']}\" {r['msgs_per_s']:.1f}\n")
    cs = os.path.join(out, "cpu_vs_size.dat")
    by = {p["name"]: p for p in pairs}
    sizes = sorted({r["size"] for r in runs if r["config"] == "sign"} |
                   {int(n.split("/")[2]) for n in by if n.startswith("sign/rsa2048/")})
    with open(cs, "w") as f:
        for size in sizes:
            r = find_run(runs, "sign", "unix", 5, size)
            p = by.get(f"sign/rsa2048/{size}")
            f.write(f"{size / KB:g} {r['filter_cpu_ms_per_msg'] if r else 'NaN'} "
                    f"{p['ours_us'] / 1000 if p else 'NaN'} {p['raw_us'] / 1000 if p else 'NaN'}\n")
    if not sizes:  # nothing measured for sign: an empty plot that says so
        with open(cs, "w") as f:
            f.write("10 NaN NaN NaN\n")
    script = f"""
set terminal svg size 1100,500 dynamic
set output '{out}/throughput.svg'
set title 'messages/s per configuration (10 KB messages)'
set style data histograms
set style fill solid 0.7
set boxwidth 0.8
set xtics rotate by -45 font ',9'
set ylabel 'msgs/s'
set yrange [0:*]
set grid ytics
plot '{tp}' using 2:xtic(1) notitle
set output '{out}/cpu_vs_size.svg'
set title 'sign (RSA-2048): CPU per message against message size'
unset style
set logscale xy
set xrange [1:20000]
set yrange [0.01:*]
set xtics norotate
set xlabel 'message size (KB)'
set ylabel 'ms per message'
set key left top
plot '{cs}' using 1:2 with linespoints title 'smime-milter process CPU (end to end)', \\
     '{cs}' using 1:3 with linespoints title 'smime::sign_message (micro)', \\
     '{cs}' using 1:4 with linespoints title 'raw CMS_sign + i2d_CMS_bio (micro)'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True, stderr=subprocess.DEVNULL)


def check(out):
    problems = []
    try:
        micro, runs, memory = load(out)
        with open(os.path.join(out, "results.json")) as f:
            json.load(f)
    except (OSError, ValueError) as e:
        print(f"check: {e}", file=sys.stderr)
        return 1
    if not micro_pairs(micro):
        problems.append("no micro benchmark pairs")
    if not runs:
        problems.append("no end-to-end runs")
    for r in runs:
        if not r["valid"] or r["delivered"] != r["messages"]:
            problems.append(f"invalid run {r['config']}/{r['socket']}/{r['sessions']}: {r['invalid_reason']}")
    if not memory.get("big_delivered_signed"):
        problems.append("the big message was not delivered signed")
    for name in ("results.md", "throughput.svg", "cpu_vs_size.svg"):
        p = os.path.join(out, name)
        if not os.path.isfile(p) or os.path.getsize(p) == 0:
            problems.append(f"missing {name}")
    for p in problems:
        print(f"check: {p}", file=sys.stderr)
    return 1 if problems else 0


def main():
    started = time.monotonic()
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--machine", default="")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    if a.check:
        return check(a.out)
    micro, runs, memory = load(a.out)
    pairs = micro_pairs(micro)
    add_ratios(runs)
    add_eom(a.out, runs)
    tgts = targets(runs, pairs, memory)
    gnuplot(a.out, runs, pairs)
    phases = load_phases(a.out)
    phases["report"] = time.monotonic() - started  # this script, plots included
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(markdown(a.machine, runs, pairs, memory, tgts, phases))
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write(summary(a.machine, runs, pairs, memory, tgts, phases))
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"machine": a.machine, "phase_seconds": {k: round(v, 1) for k, v in phases.items()},
                   "e2e": runs, "micro": pairs, "cpu_vs_raw": cpu_rows(runs, pairs), "memory": memory,
                   "targets": tgts}, f, indent=1)
    print(phase_line(phases), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
