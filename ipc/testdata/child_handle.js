'use strict';
// Sends a descriptor to the parent with process.send(msg, handle). Node
// frames it as a NODE_HANDLE message plus SCM_RIGHTS and holds back every
// later message until the parent answers NODE_HANDLE_ACK (or NACK).
// usage: node child_handle.js server|socket
const net = require('net');
const kind = process.argv[2] || 'server';
const srv = net.createServer(() => {});
process.on('disconnect', () => process.exit(0));
// Emitted when Node gives up retransmitting a NACKed handle.
process.on('warning', (w) => process.send({ warning: w.name }));
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  if (kind === 'server') {
    process.send({ kind, port }, srv);
    process.send({ after: 'handle' });
    return;
  }
  const sock = net.connect(port, '127.0.0.1', () => {
    process.send({ kind, port: sock.localPort }, sock);
    process.send({ after: 'handle' });
  });
});
