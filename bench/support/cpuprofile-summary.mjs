#!/usr/bin/env node
/* global process, console, URL */
/**
 * Summarises a V8 .cpuprofile (node --cpu-prof) by self and total time, per function and per area
 * (node_modules package or source folder; PGlite's wasm under "pglite (wasm)").
 *
 *   node bench/support/cpuprofile-summary.mjs PROFILE.cpuprofile [--windows warm-windows.json [--label L]] [--top 40]
 *     [--blocks AREA]
 *
 * --windows: only samples inside the spans listed there ({ label, fromUs, toUs } on the monotonic
 * clock, which the profile's timestamps use on Linux), e.g. the cluster bench's warm runs and load
 * tests; --label: only the spans whose label starts with L (e.g. `hostile`).
 * --blocks: also the thread's blocking stretches: runs of consecutive samples with AREA (an area as
 * printed, e.g. `libs/ensemble/src`) on the stack — synchronous code of that area, which nothing
 * else on the thread can interrupt — and, always, runs of samples without an `(idle)` one (the
 * event loop not polling): how many, their median, p95, longest and total.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// This checkout's root (any worktree): Chorus' own files are apps/ and libs/ under it.
const root = fileURLToPath(new URL('../../', import.meta.url));
const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ownArea = new RegExp(`^(?:file://)?${escaped}((?:apps|libs)/[^/]+/src/(?:[^/]+/)?)`);
const ownFile = new RegExp(`^(?:file://)?${escaped}(?:apps|libs)/`);

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const file = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const top = Number(opt('top') ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const windows = opt('windows')
  ? JSON.parse(readFileSync(opt('windows'), 'utf8')).filter(
      (w) => opt('label') === undefined || String(w.label).startsWith(opt('label')),
    )
  : undefined;

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the samples (optionally within the windows).
const selfUs = new Map();
const sampled = []; // [node id, µs] of each sample kept, in order (null between windows)
let t = profile.startTime;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  const dt = profile.timeDeltas[i + 1] ?? 0; // a sample stands for the time until the next one
  if (windows && !windows.some((w) => t >= w.fromUs && t <= w.toUs)) {
    if (sampled.at(-1) !== null) sampled.push(null);
    continue;
  }
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  sampled.push([id, dt]);
  total += dt;
}

const areaOf = (cf) => {
  const url = cf.url ?? '';
  const fn = cf.functionName || '(anonymous)';
  if (!url) {
    if (fn.startsWith('(')) return fn; // (idle), (program), (garbage collector)
    if (/^\$|^wasm|^\d+$/.test(fn) || cf.codeType === 'wasm') return 'pglite (wasm)';
    return 'native/builtin';
  }
  if (url.startsWith('wasm://')) return 'pglite (wasm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node internals';
  const m = url.match(ownArea);
  if (m) return m[1].replace(/\/$/, '');
  return url.replace(/^file:\/\//, '');
};
const label = (cf) =>
  `${cf.functionName || '(anonymous)'} ${(cf.url ?? '').replace(/^.*\/(node_modules\/)?/, '')}:${cf.lineNumber + 1}`;

// Self by area and by function; total by area and function (each counted once per stack).
// Each sample charged to the innermost frame of Chorus' own code (apps/, libs/) on its stack:
// which of the coordinator's functions caused the time, wasm and libraries included.
const isOwn = (cf) => ownFile.test(cf.url ?? '') && !(cf.url ?? '').includes('node_modules');
const byOwn = new Map();
const selfArea = new Map();
const selfFn = new Map();
const totalArea = new Map();
const totalFn = new Map();
for (const [id, us] of selfUs) {
  const cf = nodes.get(id).callFrame;
  const a = areaOf(cf);
  selfArea.set(a, (selfArea.get(a) ?? 0) + us);
  selfFn.set(label(cf), (selfFn.get(label(cf)) ?? 0) + us);
  let owner = '(no Chorus frame)';
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const f = nodes.get(n).callFrame;
    if (isOwn(f)) {
      owner = label(f);
      break;
    }
  }
  if (cf.functionName === '(idle)') owner = '(idle)';
  else if (owner === '(no Chorus frame)') owner = `(no Chorus frame) ${areaOf(cf)}`;
  byOwn.set(owner, (byOwn.get(owner) ?? 0) + us);
  const seenA = new Set();
  const seenF = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const f = nodes.get(n).callFrame;
    const area = areaOf(f);
    if (!seenA.has(area)) {
      seenA.add(area);
      totalArea.set(area, (totalArea.get(area) ?? 0) + us);
    }
    const l = label(f);
    if (!seenF.has(l)) {
      seenF.add(l);
      totalFn.set(l, (totalFn.get(l) ?? 0) + us);
    }
  }
}

const ms = (us) => (us / 1000).toFixed(0).padStart(7);
const busy = total - (selfArea.get('(idle)') ?? 0);
const print = (title, map, n) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n))
    console.log(`${ms(v)} ms ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(
  `${file}: ${ms(total)} ms sampled${windows ? ` in ${windows.length} window(s)` : ''}, ${ms(busy)} ms not idle (% below are of that)`,
);
print('self time by area', selfArea, 30);
print('total time by area (inclusive)', totalArea, 30);
print('self time by function', selfFn, top);
print('time charged to the innermost Chorus function on the stack', byOwn, top);
print('total time by function (inclusive)', totalFn, top);

// --blocks: stretches of consecutive samples for which `inside(id)` holds.
const stretches = (inside) => {
  const found = [];
  let run = 0;
  for (const sample of [...sampled, null]) {
    if (sample !== null && inside(sample[0])) run += sample[1];
    else if (run > 0) {
      found.push(run);
      run = 0;
    }
  }
  return found.sort((a, b) => a - b);
};
const printStretches = (title, found) => {
  const at = (q) => found[Math.min(found.length - 1, Math.floor(q * found.length))] ?? 0;
  const sum = found.reduce((a, b) => a + b, 0);
  console.log(
    `\n${title}: ${found.length}, median ${ms(at(0.5)).trim()} ms, p95 ${ms(at(0.95)).trim()} ms, ` +
      `longest ${ms(found.at(-1) ?? 0).trim()} ms, total ${ms(sum).trim()} ms`,
  );
};
const blocks = opt('blocks');
if (blocks !== undefined) {
  const has = (id) => {
    for (let n = id; n !== undefined; n = parent.get(n))
      if (areaOf(nodes.get(n).callFrame) === blocks) return true;
    return false;
  };
  printStretches(`stretches with ${blocks} on the stack`, stretches(has));
  printStretches(
    'stretches without an (idle) sample',
    stretches((id) => nodes.get(id).callFrame.functionName !== '(idle)'),
  );
}
