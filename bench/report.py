#!/usr/bin/env python3
"""bench/report.py: turns the raw outputs of bench/run.sh in OUT (micro.json from Google
Benchmark, e2e.jsonl, memory.json) into results.json, results.md and two gnuplot plots
(throughput.svg, cpu_vs_size.svg) and summary.md (the short table for the README).

  report.py --out OUT [--machine TEXT]   write the report
  report.py --out OUT --check            exit 1 unless the outputs exist, parse, and
                                         every end-to-end run was valid (counts match)
"""
import argparse
import json
import os
import subprocess
import sys

KB = 1024
MB = 1024 * 1024


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


def raw_cost_ms(pairs, names):
    by = {p["name"]: p for p in pairs}
    if not all(n in by for n in names):
        return None
    return sum(by[n]["raw_us"] for n in names) / 1000.0


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
    ops = {
        "sign": ["sign/rsa2048/10240"],
        "enc1": ["sign/rsa2048/10240", "encrypt/rsa2048/10240/r1/cbc"],
        "enc3": ["sign/rsa2048/10240", "encrypt/rsa2048/10240/r3/cbc"],
        "verify": ["verify/rsa2048/10240"],
    }
    for cfg, names in ops.items():
        r = find_run(runs, cfg, "unix", 5) or find_run(runs, cfg, "unix", 20)
        raw = raw_cost_ms(pairs, names)
        if r and raw:
            v = r["filter_cpu_ms_per_msg"] / raw
            out.append({"target": f"{cfg}: milter CPU per message <= 1.25 x raw OpenSSL CMS "
                                  f"({r['filter_cpu_ms_per_msg']:.3f} ms vs {raw:.3f} ms)",
                        "value": round(v, 3), "met": v <= 1.25})
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


def markdown(machine, runs, pairs, memory, tgts):
    L = [f"Machine: {machine}", ""]
    L += ["### End to end (smtp-source -> Postfix -> smtp-sink, loopback)", "",
          "| config | socket | sessions | size | msgs/s | x none | x null | latency a p50/p99 (s) "
          "| total p50/p99 (s) | filter CPU ms/msg | peak RSS MB | Postfix warnings | valid |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        rss = r["peak_rss_kb"] / KB if r["peak_rss_kb"] else None
        cpu = r["filter_cpu_ms_per_msg"] if r["config"] != "none" else None
        L.append(f"| {r['config']} | {r['socket']} | {r['sessions']} | {r['size'] // KB} KB "
                 f"| {r['msgs_per_s']:.0f} | {fmt(r['ratio_none'], '.2f')} | {fmt(r['ratio_null'], '.2f')} "
                 f"| {r['latency_a_p50_s']}/{r['latency_a_p99_s']} | {r['latency_total_p50_s']}/{r['latency_total_p99_s']} "
                 f"| {fmt(cpu, '.3f')} | {fmt(rss, '.1f')} | {r['postfix_warnings']} "
                 f"| {'yes' if r['valid'] else 'NO: ' + r['invalid_reason']} |")
    L += ["", "Latency: Postfix's `delays=` (a = before the queue manager, i.e. SMTP receipt "
          "including the milter; total = a+b+c+d); smime-milter logs no per-message timing. "
          "Filter CPU: utime+stime of the milter process (/proc/PID/stat) over the run / messages; "
          "for `cli` the CPU of the filter scripts and their openssl children.", ""]
    L += ["### Targets", "", "| target | measured | met |", "|---|---|---|"]
    for t in tgts:
        L.append(f"| {t['target']} | {t['value']} | {'met' if t['met'] else 'NOT MET'} |")
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


def summary(machine, runs, pairs, memory, tgts):
    """The short version for the top-level README: throughput, targets, memory and the
    10 KB RSA-2048 micro rows."""
    L = [f"Machine: {machine}", "",
         "| config | socket | sessions | msgs/s | x none | x null | filter CPU ms/msg | peak RSS MB | p50/p99 a (s) | valid |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        if r["size"] != 10240:
            continue
        rss = r["peak_rss_kb"] / KB if r["peak_rss_kb"] else None
        cpu = r["filter_cpu_ms_per_msg"] if r["config"] != "none" else None
        L.append(f"| {r['config']} | {r['socket']} | {r['sessions']} | {r['msgs_per_s']:.0f} "
                 f"| {fmt(r['ratio_none'], '.2f')} | {fmt(r['ratio_null'], '.2f')} | {fmt(cpu, '.2f')} "
                 f"| {fmt(rss, '.0f')} | {r['latency_a_p50_s']}/{r['latency_a_p99_s']} | {'yes' if r['valid'] else 'NO'} |")
    L += ["", "| target | measured | met |", "|---|---|---|"]
    for t in tgts:
        L.append(f"| {t['target']} | {t['value']} | {'met' if t['met'] else 'NOT MET'} |")
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
    tgts = targets(runs, pairs, memory)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"machine": a.machine, "e2e": runs, "micro": pairs, "memory": memory,
                   "targets": tgts}, f, indent=1)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(markdown(a.machine, runs, pairs, memory, tgts))
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write(summary(a.machine, runs, pairs, memory, tgts))
    gnuplot(a.out, runs, pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
