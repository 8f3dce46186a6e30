'use strict';
// Benchmark child, stock Node (no library): echoes each message back; on
// {cmd:'throughput', n} sends n messages {hello:'world', n:i} to the parent.
// Works under child_process.fork() and under kelpie (NODE_CHANNEL_FD).
//
// The burst honours backpressure the way a careful Node app does: every
// 1000th send waits for its write callback, so Node's own write queue
// stays bounded instead of buffering a million messages in memory.
const BATCH = 1000;

function burst(n) {
  let i = 0;
  const next = () => {
    while (i < n) {
      const m = { hello: 'world', n: i++ };
      if (i % BATCH === 0 || i === n) {
        if (i < n) process.send(m, next);
        else process.send(m);
        return;
      }
      process.send(m);
    }
  };
  next();
}

process.on('message', (m) => {
  if (m !== null && typeof m === 'object' && m.cmd === 'throughput') burst(m.n);
  else process.send(m);
});
process.on('disconnect', () => process.exit(0));
