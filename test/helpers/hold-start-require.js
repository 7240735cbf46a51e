// For decode workers started by tests (`execArgv: [..., '--require', thisFile]`) with the environment
// variable SISOCK_TEST_HOLD_START set to a directory: the first worker to load this file starts at once;
// every other one waits, before it starts, until the test creates the file `go` in that directory
// (60 s at most). The first creates the file `first` there. (Under jest, give the pool the variable:
// DecodePool `env`.) So a test can have a pool answer its jobs while one of its workers is still starting.
const fs = require('node:fs');
const path = require('node:path');
const { isMainThread } = require('node:worker_threads');
const dir = process.env.SISOCK_TEST_HOLD_START;
if (!isMainThread && dir) {
  let first = false;
  try {
    fs.closeSync(fs.openSync(path.join(dir, 'first'), 'wx'));
    first = true;
  } catch {
    // another worker was first
  }
  if (!first) {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 6000 && !fs.existsSync(path.join(dir, 'go')); i++) Atomics.wait(cell, 0, 0, 10);
  }
}
