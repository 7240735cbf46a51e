// For worker threads started by tests from the TypeScript sources (`execArgv: ['--require', thisFile]`):
// compiles each .ts file alone with typescript's transpileModule, as ts-jest does under isolatedModules.
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(out.outputText, filename);
};
