#!/usr/bin/node
// The workloads of `go run ./bench -peers` on Node.js (see
// bench/peers/README.md for the shape of each and the protocol):
//
//   node node_peer.js bench COUNT name=N,name=N,...   # one JSON line per workload
//   node node_peer.js serve stream|proto              # "addr HOST:PORT", echo until stdin ends
//
// Node's loop callback is setImmediate (libuv's check phase); its
// microtasks (promises) run between callbacks, as asyncio's tasks run in
// callbacks of their loop.
'use strict';

const net = require('net');
const { Worker } = require('worker_threads');

const PEER = 'node';
const now = () => process.hrtime.bigint();
const perOp = (t0, n) => Number(now() - t0) / n;

// A small deterministic generator for the delays.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const immediate = () => new Promise((r) => setImmediate(r));

// callback: setImmediate in batches of 1000, the batch run before the
// awaited immediate that follows it.
async function callbacks(n) {
  let count = 0;
  const cb = () => { count++; };
  const t0 = now();
  for (let left = n; left > 0; left -= 1000) {
    const b = Math.min(left, 1000);
    for (let i = 0; i < b; i++) setImmediate(cb);
    await immediate();
  }
  const v = perOp(t0, n);
  if (count !== n) throw new Error(`${count} of ${n} callbacks ran`);
  return [v, 'setImmediate in batches of 1000'];
}

// chain: each callback setImmediate's the next (one loop iteration each).
function chain(n) {
  return new Promise((resolve) => {
    let i = 0;
    const t0 = now();
    const step = () => {
      if (++i === n) resolve([perOp(t0, n), "each callback setImmediate's the next"]);
      else setImmediate(step);
    };
    setImmediate(step);
  });
}

// timer: setTimeout at random delays of 0-100 ms (Node rounds to ms), on
// a loop holding n timers already.
async function timers(n) {
  const r = rng(1);
  const warm = [];
  for (let i = 0; i < n; i++) warm.push(setTimeout(() => {}, 3_600_000 + Math.floor(r() * 1000)));
  const delays = Array.from({ length: n }, () => r() * 100);
  const noop = () => {};
  const t0 = now();
  const hs = delays.map((d) => setTimeout(noop, d));
  const v = perOp(t0, n);
  for (const h of hs) clearTimeout(h);
  for (const h of warm) clearTimeout(h);
  return [v, 'setTimeout'];
}

// timer-order: n timers at random deadlines of 0-50 ms; a fault fires
// before its deadline, or after one of a later (deadline, scheduling).
function timerOrder(n) {
  return new Promise((resolve) => {
    const r = rng(2);
    const fired = [];
    for (let seq = 0; seq < n; seq++) {
      const d = r() * 50;
      const deadline = performance.now() + d;
      setTimeout(() => {
        fired.push([deadline, seq, performance.now()]);
        if (fired.length === n) done();
      }, d);
    }
    function done() {
      let early = 0, order = 0, last = null;
      const less = (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
      for (const f of fired) {
        if (f[2] < f[0]) early++;
        if (last && less(f, last)) order++;
        if (!last || less(last, f)) last = f;
      }
      resolve([early + order, `${early} early, ${order} out of order (setTimeout: ms, performance.now())`]);
    }
  });
}

// spawn: n async functions started (each awaits once, so that it ends in
// a later microtask), then Promise.all.
async function spawn(n) {
  const work = async (i) => { await null; return i; };
  const t0 = now();
  const ps = [];
  for (let i = 0; i < n; i++) ps.push(work(i));
  const rs = await Promise.all(ps);
  const v = perOp(t0, n);
  if (rs.reduce((a, b) => a + b, 0) !== (n * (n - 1)) / 2) throw new Error('wrong sum');
  return [v, 'async functions (one await each), Promise.all'];
}

// pingpong: a value handed between two async functions, a promise each way.
async function pingpong(n) {
  let toPong, toPing;
  let pongBox = new Promise((r) => { toPong = r; });
  let pingBox = new Promise((r) => { toPing = r; });
  const pong = (async () => {
    for (let i = 0; i < n; i++) {
      const v = await pongBox;
      pongBox = new Promise((r) => { toPong = r; });
      const reply = toPing;
      reply(v + 1);
    }
  })();
  const t0 = now();
  let v = 0;
  for (let i = 0; i < n; i++) {
    toPong(v);
    v = await pingBox;
    pingBox = new Promise((r) => { toPing = r; });
  }
  const res = perOp(t0, n);
  await pong;
  if (v !== n) throw new Error('wrong count');
  return [res, 'a promise each way per hand-off (microtasks)'];
}

// submit: 4 worker threads post n messages in all to the main thread.
function submit(n) {
  const per = Math.floor(n / 4);
  const total = per * 4;
  const src = `const { parentPort, workerData } = require('worker_threads');
    parentPort.once('message', () => { for (let i = 0; i < workerData; i++) parentPort.postMessage(i); });`;
  return new Promise((resolve, reject) => {
    const ws = [];
    let online = 0, count = 0, t0;
    for (let i = 0; i < 4; i++) {
      const w = new Worker(src, { eval: true, workerData: per });
      w.on('error', reject);
      w.on('online', () => {
        if (++online === 4) { t0 = now(); for (const x of ws) x.postMessage('go'); }
      });
      w.on('message', () => {
        if (++count === total) {
          const v = perOp(t0, total);
          Promise.all(ws.map((x) => x.terminate())).then(() => resolve([v, '4 worker_threads, postMessage to the main thread']));
        }
      });
      ws.push(w);
    }
  });
}

// A bounded async queue: Node has none built in; this is the usual
// shape (an array, and the resolvers of the waiting getters and putters).
class Queue {
  constructor(cap) { this.cap = cap; this.items = []; this.getters = []; this.putters = []; }
  async put(v) {
    while (this.items.length >= this.cap) await new Promise((r) => this.putters.push(r));
    this.items.push(v);
    const g = this.getters.shift();
    if (g) g();
  }
  async get() {
    while (this.items.length === 0) await new Promise((r) => this.getters.push(r));
    const v = this.items.shift();
    const p = this.putters.shift();
    if (p) p();
    return v;
  }
}

// queue: a producer and a consumer on a Queue bounded at 64.
async function queue(n) {
  const q = new Queue(64);
  const t0 = now();
  const p = (async () => { for (let i = 0; i < n; i++) await q.put(i); })();
  let s = 0;
  for (let i = 0; i < n; i++) s += await q.get();
  const v = perOp(t0, n);
  await p;
  if (s !== (n * (n - 1)) / 2) throw new Error('wrong sum');
  return [v, 'a bounded promise queue of 64 (Node has none built in)'];
}

// group: n async functions, Promise.all (Node's task group).
async function group(n) {
  const work = async (i) => { await null; return i; };
  const t0 = now();
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => work(i)));
  const v = perOp(t0, n);
  if (rs.reduce((a, b) => a + b, 0) !== (n * (n - 1)) / 2) throw new Error('wrong sum');
  return [v, 'Promise.all'];
}

const WORKLOADS = {
  callback: ['ns per op', callbacks],
  chain: ['ns per op', chain],
  timer: ['ns per op', timers],
  'timer-order': ['faults (a check)', timerOrder],
  spawn: ['ns per op', spawn],
  pingpong: ['ns per op', pingpong],
  submit: ['ns per op', submit],
  queue: ['ns per op', queue],
  group: ['ns per op', group],
};

const emit = (rec) => process.stdout.write(JSON.stringify(rec) + '\n');

async function bench(count, spec) {
  let failed = false;
  for (const item of spec.split(',').filter(Boolean)) {
    const [name, ns] = item.split('=');
    const n = parseInt(ns, 10);
    if (!(name in WORKLOADS)) { emit({ peer: PEER, workload: name, skip: `not written for ${PEER}` }); continue; }
    const [unit, fn] = WORKLOADS[name];
    const values = [];
    let note = '';
    try {
      for (let k = 0; k < count; k++) {
        const [v, nt] = await fn(n);
        values.push(v);
        note = nt;
      }
    } catch (e) {
      failed = true;
      emit({ peer: PEER, workload: name, error: String(e) });
      continue;
    }
    values.sort((a, b) => a - b);
    const m = values.length;
    const median = m % 2 ? values[(m - 1) / 2] : (values[m / 2 - 1] + values[m / 2]) / 2;
    emit({ peer: PEER, workload: name, unit, value: median, n, runs: count, note });
  }
  return failed ? 1 : 0;
}

function serve(form) {
  let onConn;
  if (form === 'stream') {
    onConn = (s) => { s.setNoDelay(true); s.on('error', () => {}); s.pipe(s); };
  } else if (form === 'proto') {
    onConn = (s) => { s.setNoDelay(true); s.on('error', () => {}); s.on('data', (b) => s.write(b)); };
  } else {
    process.stderr.write(`no form ${form}: want stream or proto\n`);
    process.exit(2);
  }
  const srv = net.createServer(onConn);
  srv.listen(0, '127.0.0.1', () => {
    const a = srv.address();
    process.stdout.write(`addr ${a.address}:${a.port}\n`);
  });
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => process.exit(0));
}

const argv = process.argv.slice(2);
if (argv.length === 3 && argv[0] === 'bench') {
  bench(parseInt(argv[1], 10), argv[2]).then((code) => process.exit(code));
} else if (argv.length === 2 && argv[0] === 'serve') {
  serve(argv[1]);
} else {
  process.stderr.write('usage: node node_peer.js bench COUNT name=N,... | serve stream|proto\n');
  process.exit(2);
}
