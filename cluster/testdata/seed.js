const cluster = require("cluster");
const http = require("http");
const numCPUs = require("os").cpus().length;
if (cluster.isMaster) {
  for (let i = 0; i < numCPUs; i++) cluster.fork();
  cluster.on("exit", (worker) => console.log(`Worker ${worker.process.pid} died`));
} else {
  http.createServer((req, res) => { res.writeHead(200); res.end("Hello from Node.js!"); }).listen(8000);
  console.log(`Worker ${process.pid} started`);
}
