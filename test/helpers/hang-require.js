// (and `.die.csv`: see the end)
// For decode workers started by tests (`execArgv: [..., '--require', thisFile]`): opening a file whose
// name ends in `.hang.csv` never returns (a busy loop, as a decoder that never finishes would be: the
// worker can be terminated), and opening `X.stuck.csv` first opens the FIFO `X.stuck.csv.fifo` the
// blocking way (a thread in a system call, as on a dead network mount: terminate() cannot end it until
// the test opens the FIFO for writing). So a test can see what the pool does with workers that overrun.
const fs = require('node:fs');
const openSync = fs.openSync;
fs.openSync = function (file, ...rest) {
  const f = String(file);
  if (f.endsWith('.hang.csv')) for (;;);
  if (f.endsWith('.stuck.csv')) fs.closeSync(openSync.call(this, `${f}.fifo`, 'r'));
  return openSync.call(this, file, ...rest);
};
// In a worker thread, opening through fs.promises (as the archive reader's workers do) a file whose name
// ends in `.die.csv` ends the worker (exit code 9), as a file that exhausts a worker's memory would, and
// one ending in `.hang.csv` never returns, as above.
const { isMainThread } = require('node:worker_threads');
if (!isMainThread) {
  const open = fs.promises.open;
  fs.promises.open = function (file, ...rest) {
    if (String(file).endsWith('.die.csv')) process.exit(9);
    if (String(file).endsWith('.hang.csv')) for (;;);
    return open.call(this, file, ...rest);
  };
}
