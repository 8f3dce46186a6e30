'use strict';
// A Node cluster program whose workers answer with their pid, so a test
// can count which worker served. Under kelpie only the worker branch runs.
// MAXCONN sets server.maxConnections (0: the worker refuses every
// connection, Node's accepted:false); SELF_DISCONNECT=1 makes the worker
// leave by itself once listening (cluster.worker.disconnect()).
const cluster = require('cluster');
const http = require('http');
if (cluster.isPrimary) {
  console.log('primary branch ran: kelpie should have been the primary');
  process.exit(3);
}
const server = http.createServer((req, res) => res.end(String(process.pid)));
if (process.env.MAXCONN !== undefined) server.maxConnections = +process.env.MAXCONN;
server.listen(+process.env.PORT, () => {
  if (process.env.SELF_DISCONNECT === '1') cluster.worker.disconnect();
});
