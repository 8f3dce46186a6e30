// A stock Node child: no library, only process.send / process.on('message').
process.on('message', m => { console.log('Message from parent:', m); process.send({msg:'Hello from child!'}) })
