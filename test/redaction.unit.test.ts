/** Passwords out of sight (SPEC §17 "Security"): redaction, and passwords moved off command lines. */
import { describe, expect, it } from 'vitest';
import { passwordsOutOfArgs, redact, redactUrl, separatePassword, urlPassword } from '../src/base/redact.js';
import { escapeControls, shown, SHOWN_VALUE_MAX } from '../src/base/text.js';

describe('redact', () => {
  it('hides a password holding a space, #, ? or an encoded @ whole', () => {
    expect(redact('cannot connect to postgresql://u:PW LEAK@localhost:5432/db: refused')).toBe(
      'cannot connect to postgresql://u:***@localhost:5432/db: refused',
    );
    expect(redact('postgresql://u:a#b?c@h/db')).toBe('postgresql://u:***@h/db');
    expect(redact('postgres://u:p%40ss@/db?host=/tmp')).toBe('postgres://u:***@/db?host=/tmp');
  });

  it('hides password= query parameters and leaves URLs without a password alone', () => {
    expect(redact('postgresql://h/db?sslmode=require&password=hunter2&x=1')).toBe('postgresql://h/db?sslmode=require&password=***&x=1');
    expect(redact('postgresql://app@/db?host=/tmp')).toBe('postgresql://app@/db?host=/tmp');
    expect(redact('postgresql://h:5432/db and more')).toBe('postgresql://h:5432/db and more');
  });

  it('finds every URL of a text', () => {
    const text = 'from postgresql://a:one@h1/x to postgres://b:two words@h2/y';
    expect(redact(text)).toBe('from postgresql://a:***@h1/x to postgres://b:***@h2/y');
  });
});

describe('redactUrl and urlPassword', () => {
  it('reads the password as the driver does', () => {
    expect(urlPassword('postgresql://u:PW%20LEAK@h/db')).toBe('PW LEAK');
    expect(urlPassword('postgresql://u:PW LEAK@h/db')).toBe('PW LEAK');
    expect(urlPassword('postgresql://h/db?password=x%26y')).toBe('x&y');
    expect(urlPassword('postgresql://u@h/db')).toBeUndefined();
  });

  it('never shows the password of a URL, however it is written', () => {
    for (const url of ['postgresql://u:PW LEAK@h/db', 'postgresql://u:s3cr%3At@h/db', 'postgresql://h/db?password=LEAKED', 'postgresql://u:a@b@h/db']) {
      const text = redactUrl(url);
      expect(text).toContain('***');
      expect(text).not.toMatch(/LEAK|s3cr|a@b/);
    }
  });
});

describe('separatePassword and passwordsOutOfArgs', () => {
  it('takes the password out of the URL, keeping the rest as written', () => {
    expect(separatePassword('postgresql://u:PW LEAK@h:5/db?sslmode=disable')).toEqual({ url: 'postgresql://u@h:5/db?sslmode=disable', password: 'PW LEAK' });
    expect(separatePassword('postgresql://u:p@/db?host=/tmp/s&password=p')).toEqual({ url: 'postgresql://u@/db?host=/tmp/s', password: 'p' });
    expect(separatePassword('postgresql://h/db?password=p&options=-c%20x%3Dy')).toEqual({ url: 'postgresql://h/db?options=-c%20x%3Dy', password: 'p' });
    expect(separatePassword('postgresql://u@h/db')).toEqual({ url: 'postgresql://u@h/db', password: undefined });
  });

  it('moves passwords of URL arguments into PGPASSWORD', () => {
    const { args, env } = passwordsOutOfArgs(['-X', '-d', 'postgresql://u:hunter2@h/db', '--dbname=postgres://u:hunter2@h/db'], { PATH: '/bin' });
    expect(args).toEqual(['-X', '-d', 'postgresql://u@h/db', '--dbname=postgres://u@h/db']);
    expect(env).toEqual({ PATH: '/bin', PGPASSWORD: 'hunter2' });
    expect(args.join(' ')).not.toContain('hunter2');
  });

  it('leaves the environment alone when no argument has a password', () => {
    const { args, env } = passwordsOutOfArgs(['-d', 'postgresql://u@h/db'], { PGPASSWORD: 'from-user' });
    expect(args).toEqual(['-d', 'postgresql://u@h/db']);
    expect(env.PGPASSWORD).toBe('from-user');
  });
});

describe('shown and escapeControls', () => {
  it('escapes newlines, ESC, NUL, CR and bidi controls', () => {
    expect(escapeControls('a\nb\x1b[31mc\0d\re\u202ef')).toBe('a\\nb\\x1b[31mc\\0d\\re\\u202ef');
    expect(escapeControls('a\nb\x1b', { keepLines: true })).toBe('a\nb\\x1b');
  });

  it('caps a long value and says how much was cut', () => {
    const text = shown('x'.repeat(1_000_000));
    expect(text.length).toBeLessThan(SHOWN_VALUE_MAX + 40);
    expect(text).toContain('more characters');
  });
});
