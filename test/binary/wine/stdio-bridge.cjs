// Runs under the pinned Windows Node inside wine. For each TCP connection it starts the program
// named in the connection's first line (a JSON array: program, then its arguments) with Windows
// pipes as stdin, stdout and stderr, as Windows OpenSSH starts a ProxyCommand, and carries the
// connection's bytes to the program's stdin and its stdout back. (A Linux pipe handed straight to
// a program under wine is not a Windows pipe; Node there fails with EBADF.)
//   node.exe stdio-bridge.cjs <port file> <log file>
'use strict';
const net = require('node:net');
const fs = require('node:fs');
const { spawn } = require('node:child_process');

const [portFile, logFile] = process.argv.slice(2);
const log = (line) => fs.appendFileSync(logFile, `${line}\n`);

// Half-open: the client's end of input must not end the program's output.
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  let head = Buffer.alloc(0);
  socket.on('data', function firstLine(chunk) {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf(10);
    if (end < 0) return;
    socket.off('data', firstLine);
    socket.pause();
    const [program, ...args] = JSON.parse(head.subarray(0, end).toString('utf8'));
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let stderr = '';
    child.stderr.on('data', (data) => (stderr += data));
    child.stdin.on('error', () => undefined);
    const rest = head.subarray(end + 1);
    if (rest.length > 0) child.stdin.write(rest);
    socket.pipe(child.stdin);
    child.stdout.pipe(socket);
    child.on('error', (error) => log(`spawn failed: ${error.message}`));
    child.on('close', (code, signal) => {
      log(`exit ${code ?? signal}${stderr ? `: ${stderr.trim()}` : ''}`);
      socket.end();
    });
  });
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
// A deadline of its own, should the test that started it be gone.
setTimeout(() => process.exit(0), 15 * 60_000).unref();
