// A stock Node script with no library: kelpie forks it with a message
// channel (ipc: true), exactly as Node's child_process.fork would.
process.on("message", (msg) => {
  console.log("Message from parent:", msg);
  process.send({ msg: "Hello from child!" });
});
