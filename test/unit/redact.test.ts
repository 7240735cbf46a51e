import { Writable } from 'stream';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { commandTitle, redactObject, redactSecrets, redactUrl, urlHasPassword } from '../../common/redact';
import { redactingOptions } from '../../common/log';
import { secretFromEnv } from '../../common/secret-env';
import { openIndexDb } from '../../data-nodes/archive/index-db';

describe('redact', () => {
  test('user:password@ in URLs of any scheme becomes user:***@; hosts, paths and users stay', () => {
    expect(redactUrl('mqtt://alice:s3cret@broker:1883')).toBe('mqtt://alice:***@broker:1883');
    expect(redactUrl('mysql://sisock:p%40ss@mariadb:3306/sisock?prefix=a_')).toBe('mysql://sisock:***@mariadb:3306/sisock?prefix=a_');
    expect(redactUrl('wss://u:p@router:8080/ws')).toBe('wss://u:***@router:8080/ws');
    expect(redactUrl('postgres://:onlypw@db/x')).toBe('postgres://:***@db/x');
    expect(redactUrl('mqtt://alice@broker:1883')).toBe('mqtt://alice@broker:1883');
    expect(redactUrl(new URL('http://a:b@h/'))).toBe('http://a:***@h/');
    expect(redactUrl('ws://router:8080/ws')).toBe('ws://router:8080/ws');
  });

  test('secret query parameters are redacted; others stay', () => {
    expect(redactUrl('http://h/x?user=a&password=b&x=1')).toBe('http://h/x?user=a&password=***&x=1');
    expect(redactUrl('http://h/x?token=abc')).toBe('http://h/x?token=***');
  });

  test('inside free text, every URL is redacted', () => {
    expect(redactSecrets('connect mqtt://a:b@h:1 failed; retry mysql://c:d@e/f')).toBe(
      'connect mqtt://a:***@h:1 failed; retry mysql://c:***@e/f',
    );
    expect(redactSecrets('no url here: a@b, x=1')).toBe('no url here: a@b, x=1');
  });

  test('urlHasPassword', () => {
    expect(urlHasPassword('--broker=mqtt://u:p@h')).toBe(true);
    expect(urlHasPassword('mqtt://u@h')).toBe(false);
    expect(urlHasPassword('mqtt://u:@h')).toBe(false);
    expect(urlHasPassword('plain')).toBe(false);
  });

  test('redactObject walks arrays, plain objects and errors, and keeps unchanged objects', () => {
    const clean = { a: 'x', b: [1, 'y'] };
    expect(redactObject(clean)).toBe(clean);
    const out = redactObject({
      broker: 'mqtt://u:p@h',
      urls: ['ws://a:b@c/'],
      nested: { db: 'mysql://r:s@h/d' },
      err: new Error('at mysql://r:s@h/d'),
    });
    expect(out).toMatchObject({ broker: 'mqtt://u:***@h', urls: ['ws://a:***@c/'], nested: { db: 'mysql://r:***@h/d' } });
    expect((out.err as Error).message).toBe('at mysql://r:***@h/d');
  });

  test('a logger built with redactingOptions never writes a password, in fields or in the message', () => {
    let text = '';
    const log = pino(
      redactingOptions({ level: 'info' }),
      new Writable({
        write(c: Buffer, _e, cb) {
          text += String(c);
          cb();
        },
      }),
    );
    log.info(
      { broker: 'mqtt://alice:hunter2@broker:1883', err: new Error('refused by mysql://root:hunter2@db/x') },
      'connecting to mqtt://alice:hunter2@b',
    );
    log.child({ component: 'c' }).warn({ urls: ['wss://a:hunter2@r/ws'] }, 'x');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('mqtt://alice:***@broker:1883');
    expect(text).toContain('connecting to mqtt://alice:***@b');
  });

  test('commandTitle: the program and its sub-commands, never an argument', () => {
    expect(commandTitle(['node', '/app/dist/bin/sisock.js', 'node', 'mqtt', '--broker', 'mqtt://u:p@h', '--map', 'x.yaml'])).toBe(
      'sisock node mqtt',
    );
    expect(commandTitle(['node', '/usr/bin/sisock.js', 'node', 'weather'])).toBe('sisock node weather');
    expect(commandTitle(['python3', '/x/my_node.py', '--password=abc'])).toBe('my_node.py');
    expect(commandTitle(['node', 'sisock', 'a', 'b', 'c', 'd', 'e'])).toBe('sisock a b c');
  });
});

describe('secretFromEnv', () => {
  test('NAME, or the file named by NAME_FILE (which wins, trailing newline stripped)', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sec-')), 'pw');
    fs.writeFileSync(f, 'from-file\n');
    expect(secretFromEnv({ X: 'from-env' }, 'X')).toBe('from-env');
    expect(secretFromEnv({ X: 'from-env', X_FILE: f }, 'X')).toBe('from-file');
    expect(secretFromEnv({ X: '' }, 'X')).toBeUndefined();
    expect(secretFromEnv({}, 'X')).toBeUndefined();
    expect(() => secretFromEnv({ X_FILE: `${f}.missing` }, 'X')).toThrow(/cannot read X_FILE/);
  });

  test('the archive index takes the MySQL password from SISOCK_DB_PASSWORD; its location never shows one', async () => {
    const db = openIndexDb('mysql://sisock@127.0.0.1:1/sisock', { SISOCK_DB_PASSWORD: 'pw' });
    expect(db.location).toBe('mysql://sisock@127.0.0.1:1/sisock');
    await db.close();
    const db2 = openIndexDb('mysql://sisock:inurl@127.0.0.1:1/sisock', {});
    expect(db2.location).not.toContain('inurl');
    await db2.close();
  });
});
