'use strict';
// A plain Node worker in kelpie's round-robin mode: no cluster module,
// connections arrive as net.Socket with process.on('message').
const http = require('http');
const server = http.createServer((req, res) => res.end(String(process.pid)));
process.on('message', (m, socket) => {
  if (m && m.kelpie === 'conn' && socket) server.emit('connection', socket);
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
