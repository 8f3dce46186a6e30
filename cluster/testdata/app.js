'use strict';
// A Node cluster program whose workers answer with their pid, so a test
// can count which worker served. Under kelpie only the worker branch runs.
const cluster = require('cluster');
const http = require('http');
if (cluster.isPrimary) {
  console.log('primary branch ran: kelpie should have been the primary');
  process.exit(3);
}
http.createServer((req, res) => res.end(String(process.pid))).listen(+process.env.PORT);
