// For decode workers started by tests (`execArgv: [..., '--require', thisFile]`): opening a file whose
// name ends in `.hang.csv` never returns (a busy loop, as a decoder that never finishes would be), so a
// test can see what the pool does with a worker that overruns its deadline.
const fs = require('node:fs');
const openSync = fs.openSync;
fs.openSync = function (file, ...rest) {
  if (String(file).endsWith('.hang.csv')) for (;;);
  return openSync.call(this, file, ...rest);
};
