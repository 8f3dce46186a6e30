'use strict';
// Forks a Go child built on ipc.FromParent with Node's own
// child_process.fork, then exchanges messages and passes it a handle.
// usage: node fork_go.js GO_BINARY   (the binary acts as an echo child when
// KELPIE_IPC_TEST_CHILD=echo)
const { fork } = require('child_process');
const net = require('net');
const child = fork('kelpie-ipc-child', [], {
  execPath: process.argv[2],
  execArgv: [],
  env: { ...process.env, KELPIE_IPC_TEST_CHILD: 'echo' },
});
const messages = [];
const srv = net.createServer();
child.on('message', (m) => {
  messages.push(m);
  if (m.ready) {
    child.send({ hello: 'world', n: 1 });
  } else if (m.hello) {
    srv.listen(0, '127.0.0.1', () => {
      child.send({ port: srv.address().port }, srv);
      // Queued by Node until the Go child ACKs the handle.
      child.send({ after: 'handle' });
    });
  } else if (m.after) {
    console.log('RESULT ' + JSON.stringify(messages));
    srv.close();
    child.disconnect();
  }
});
child.on('exit', (code) => console.log('EXIT ' + code));
