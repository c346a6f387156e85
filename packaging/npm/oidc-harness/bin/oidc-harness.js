#!/usr/bin/env node
'use strict';
// Runs the platform binary with this process's arguments and stdio, and exits as it does.

const { spawn } = require('node:child_process');
const { binaryPath } = require('../lib/binary.cjs');

let bin;
try {
  bin = binaryPath();
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit' });
// A signal sent to this process (a CI runner's SIGTERM) goes on to the server.
const forward = (signal) => child.kill(signal);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);

child.on('error', (err) => {
  process.stderr.write(`oidc-harness: cannot run ${bin}: ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    // Die of the same signal, so the caller sees what the binary saw.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code);
  }
});
