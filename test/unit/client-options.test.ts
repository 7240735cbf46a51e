import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { authMethodsFrom, clientOptionsFromEnv } from '../../client/options';

describe('client options from the environment, as the Python SDK reads them', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-opts-'));
    fs.writeFileSync(path.join(dir, 'env-secret'), 'from-env-file\n');
    fs.writeFileSync(path.join(dir, 'flag-secret'), 'from-flag-file\r\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('SISOCK_SECRET_FILE is the env twin of --secret-file: over SISOCK_SECRET, under the flag', () => {
    const env = { SISOCK_AUTHID: 'a', SISOCK_SECRET_FILE: path.join(dir, 'env-secret'), SISOCK_SECRET: 'plain' };
    expect(clientOptionsFromEnv({}, env).secret).toBe('from-env-file');
    expect(clientOptionsFromEnv({ secretFile: path.join(dir, 'flag-secret') }, env).secret).toBe('from-flag-file');
    expect(clientOptionsFromEnv({}, { SISOCK_AUTHID: 'a', SISOCK_SECRET: 'plain', SISOCK_SECRET_FILE: '' }).secret).toBe('plain');
  });

  test('an unreadable SISOCK_SECRET_FILE is an error naming it; no authid, no secret kept', () => {
    expect(() => clientOptionsFromEnv({}, { SISOCK_AUTHID: 'a', SISOCK_SECRET_FILE: path.join(dir, 'nope') })).toThrow(
      /cannot read secret file .*nope/,
    );
    expect(clientOptionsFromEnv({}, { SISOCK_SECRET_FILE: path.join(dir, 'env-secret') }).secret).toBeUndefined();
    expect(() => clientOptionsFromEnv({}, { SISOCK_AUTHID: 'a' })).toThrow(/set SISOCK_SECRET_FILE or SISOCK_SECRET/);
  });

  test('SISOCK_AUTHMETHODS chooses the methods offered with an authid', () => {
    const env = { SISOCK_AUTHID: 'a', SISOCK_SECRET: 's' };
    expect(clientOptionsFromEnv({}, env).authmethods).toBeUndefined(); // the client's default: wampcra, ticket
    expect(clientOptionsFromEnv({}, { ...env, SISOCK_AUTHMETHODS: 'ticket' }).authmethods).toEqual(['ticket']);
    expect(clientOptionsFromEnv({}, { ...env, SISOCK_AUTHMETHODS: ' ticket , wampcra,ticket' }).authmethods).toEqual(['ticket', 'wampcra']);
    // without an authid it offers nothing but anonymous (no ticket without a secret)
    expect(clientOptionsFromEnv({}, { SISOCK_AUTHMETHODS: 'ticket' }).authmethods).toBeUndefined();
  });

  test.each(['anonymous', 'cra', 'ticket,oops'])('SISOCK_AUTHMETHODS=%p is refused with the known methods', (v) => {
    expect(() => clientOptionsFromEnv({}, { SISOCK_AUTHID: 'a', SISOCK_SECRET: 's', SISOCK_AUTHMETHODS: v })).toThrow(
      /SISOCK_AUTHMETHODS: unknown method .*\(wampcra, ticket\)/,
    );
    expect(() => clientOptionsFromEnv({}, { SISOCK_AUTHMETHODS: v })).toThrow(/SISOCK_AUTHMETHODS/);
  });

  test('an empty SISOCK_AUTHMETHODS is the default', () => {
    expect(authMethodsFrom('')).toBeUndefined();
    expect(authMethodsFrom(' , ')).toBeUndefined();
    expect(authMethodsFrom(undefined)).toBeUndefined();
  });
});
