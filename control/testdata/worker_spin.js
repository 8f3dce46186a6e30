// A main thread and a worker_threads worker exchanging "ping"/"pong"; the
// worker spins between messages, so its thread is the busy one.
'use strict';
const { Worker, isMainThread, parentPort } = require('worker_threads');
if (isMainThread) {
  const w = new Worker(__filename);
  let pongs = 0;
  w.on('message', (m) => {
    if (m === 'pong' && ++pongs === 1) console.log('pong');
  });
  setInterval(() => w.postMessage('ping'), 100);
} else {
  parentPort.on('message', (m) => {
    if (m === 'ping') parentPort.postMessage('pong');
  });
  const spin = () => {
    const end = Date.now() + 50;
    while (Date.now() < end) {}
    setImmediate(spin);
  };
  spin();
}
