#!/usr/bin/env node
/**
 * Prints the plain closing line of a test run from jest's --json output:
 *   tests: N passed, N failed, N skipped
 * and lists the failed tests above it. Exits 0; the Makefile keeps jest's own exit code.
 */
'use strict';
const fs = require('node:fs');

const file = process.argv[2];
let r;
try {
  r = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (e) {
  console.log(`tests: no results (${file}: ${e.message})`);
  process.exit(0);
}
for (const suite of r.testResults || []) {
  for (const t of suite.assertionResults || []) {
    if (t.status === 'failed') console.log(`FAILED ${suite.name.replace(process.cwd() + '/', '')} › ${t.fullName}`);
  }
  if (suite.status === 'failed' && (!suite.assertionResults || suite.assertionResults.length === 0)) {
    console.log(`FAILED ${suite.name.replace(process.cwd() + '/', '')}: ${(suite.message || '').split('\n')[0]}`);
  }
}
const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
const failed = (r.numFailedTests || 0) + (r.numRuntimeErrorTestSuites || 0);
console.log(`tests: ${r.numPassedTests || 0} passed, ${failed} failed, ${skipped} skipped`);
