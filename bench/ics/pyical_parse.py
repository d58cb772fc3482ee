#!/usr/bin/python3
"""python3-icalendar parse (icalendar.Calendar.from_ical) for bench/ics/run.sh.

    /usr/bin/python3 pyical_parse.py FILE [ITERATIONS]

The file is read (bytes) outside the timed region; each iteration times one
Calendar.from_ical; the previous result is dropped before the next run.
Prints one JSON line like bench_ics.
"""
import json
import resource
import sys
import time


def vmrss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: pyical_parse.py FILE [ITERATIONS]\n")
        sys.exit(2)
    import icalendar  # imported before the baseline: the interpreter + library is the base
    base = vmrss_kb()
    iterations = max(1, int(sys.argv[2])) if len(sys.argv) > 2 else 1
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    runs, cpu_runs, proc_runs, vevents = [], [], [], 0
    for _ in range(iterations):
        c0, p0 = time.thread_time(), time.process_time()
        t0 = time.perf_counter()
        cal = icalendar.Calendar.from_ical(data)
        runs.append(time.perf_counter() - t0)
        cpu_runs.append(time.thread_time() - c0)
        proc_runs.append(time.process_time() - p0)
        vevents = sum(1 for c in cal.subcomponents if c.name == "VEVENT")
        cal = None
    best = min(runs)
    print(json.dumps({
        "tool": "pyical", "bytes": len(data), "best_s": best,
        "mb_s": len(data) / 1e6 / best, "all_s": runs, "best_cpu_s": min(cpu_runs), "best_proc_cpu_s": min(proc_runs), "base_rss_kb": base,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "vevents": vevents, "version": icalendar.__version__,
        "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
