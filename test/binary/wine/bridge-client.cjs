// The Linux side of stdio-bridge.cjs, as an ssh ProxyCommand:
//   node bridge-client.cjs <port> <program> <arguments...>
// sends the program and its arguments as the first line, then carries stdin to the bridge and
// the bridge's bytes to stdout.
'use strict';
const net = require('node:net');

const [port, ...command] = process.argv.slice(2);
const socket = net.connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true }, () => {
  socket.write(`${JSON.stringify(command)}\n`);
  process.stdin.pipe(socket);
});
socket.pipe(process.stdout);
socket.on('error', (error) => {
  process.stderr.write(`bridge-client: ${error.message}\n`);
  process.exit(1);
});
socket.on('end', () => process.stdout.end(() => process.exit(0)));
