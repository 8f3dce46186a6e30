'use strict';
// A stock Node child taking connections passed as net.Socket handles:
// process.on('message', (m, socket) => ...). It answers on each socket
// with the message's n and its pid, then closes it.
process.on('message', (m, sock) => {
  if (!sock) { process.send({ noHandle: m }); return; }
  sock.end(`n=${m.n} pid=${process.pid}`);
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
