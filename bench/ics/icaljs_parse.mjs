// ical.js bare parse (ICAL.parse: text -> jCal) for bench/ics/run.sh.
//   node --expose-gc icaljs_parse.mjs FILE [ITERATIONS]
// The file is read and decoded to a JS string outside the timed region. Each
// iteration times one ICAL.parse; the first is the JIT warm-up (kept in all_s,
// the best run is reported); gc() runs between iterations so parse trees of
// earlier runs do not inflate the peak. Prints one JSON line like bench_ics.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import ICAL from 'ical.js';

const [file, itArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node --expose-gc icaljs_parse.mjs FILE [ITERATIONS]');
  process.exit(2);
}
const iterations = Math.max(1, parseInt(itArg || '5', 10));
const baseRssKb = Math.round(process.memoryUsage().rss / 1024);
const buf = readFileSync(file);
const text = buf.toString('utf8');
const runs = [];
// On-CPU seconds of the main thread (the one that parses), from schedstat (ns).
// V8's helper threads (concurrent GC) are not counted: favours ical.js.
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
const mainCpu = () => Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1e9;
const cpuRuns = [];
const procRuns = []; // process CPU seconds (all threads: JIT, GC helpers)
let vevents = 0;
for (let i = 0; i < iterations; i++) {
  if (globalThis.gc) globalThis.gc();
  const c0 = mainCpu();
  const p0 = process.cpuUsage();
  const t0 = performance.now();
  let jcal = ICAL.parse(text);
  runs.push((performance.now() - t0) / 1000);
  cpuRuns.push(mainCpu() - c0);
  const p = process.cpuUsage(p0);
  procRuns.push((p.user + p.system) / 1e6);
  // jCal: ["vcalendar", props, components]
  vevents = jcal[2].filter((c) => c[0] === 'vevent').length;
  jcal = null;
}
const best = Math.min(...runs);
console.log(JSON.stringify({
  tool: 'icaljs', bytes: buf.length, best_s: best, mb_s: buf.length / 1e6 / best,
  all_s: runs, best_cpu_s: Math.min(...cpuRuns), best_proc_cpu_s: Math.min(...procRuns), base_rss_kb: baseRssKb, peak_rss_kb: process.resourceUsage().maxRSS,
  vevents, version: JSON.parse(readFileSync(new URL('./node_modules/ical.js/package.json', import.meta.url))).version,
  node: process.version,
}));
