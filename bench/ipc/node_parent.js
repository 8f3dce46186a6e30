'use strict';
// Reference: Node fork() parent + Node child over Node's json IPC channel.
// usage: node node_parent.js pingpong|throughput N WARMUP
// Prints one JSON line: {p50_us, p99_us, mean_us} or {elapsed_s, msgs_per_s}.
const { fork } = require('child_process');
const path = require('path');

const mode = process.argv[2];
const n = Number(process.argv[3]);
const warm = Number(process.argv[4] || 1000);
const child = fork(path.join(__dirname, 'node_child.js'), [], { serialization: 'json' });

function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  child.disconnect();
}

function pctl(sorted, q) { return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]; }

if (mode === 'pingpong') {
  const lat = new Float64Array(n);
  let i = 0;
  let t0 = 0n;
  const ping = () => {
    t0 = process.hrtime.bigint();
    child.send({ hello: 'world', n: i });
  };
  child.on('message', (m) => {
    const us = Number(process.hrtime.bigint() - t0) / 1e3;
    if (m.n !== i) throw new Error(`echo ${JSON.stringify(m)} for ${i}`);
    if (i >= warm) lat[i - warm] = us;
    if (++i < warm + n) return ping();
    lat.sort();
    let sum = 0;
    for (const v of lat) sum += v;
    done({ p50_us: pctl(lat, 0.5), p99_us: pctl(lat, 0.99), mean_us: sum / n });
  });
  ping();
} else if (mode === 'throughput') {
  let got = 0;
  let t0 = 0n;
  child.on('message', (m) => {
    if (m.n !== got) throw new Error(`message ${JSON.stringify(m)}, want n=${got}`);
    if (++got === n) {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      done({ elapsed_s: s, msgs_per_s: n / s });
    }
  });
  t0 = process.hrtime.bigint();
  child.send({ cmd: 'throughput', n });
} else {
  throw new Error('mode must be pingpong or throughput');
}
