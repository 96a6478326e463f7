/**
 * Passwords out of sight (SPEC §11, §17 "Security"): the one redaction of the tool, for
 * messages and logs, and the one way to take a password out of a connection URL before
 * the URL goes on a command line (where `ps` shows it to every local user).
 *
 * A URL's password is found where the program reading the URL finds it: libpq's URI
 * parser (`conninfo_uri_parse`) takes the user information as everything between `//`
 * and the first `@` (before any `/`), and the password as what follows its first `:`;
 * a `password=` query parameter counts too. So a password holding a space, a `#` or a
 * `?` is hidden whole, where a pattern stopping at such characters would show its tail.
 * The decoded password is checked against pg-connection-string, the driver's parser.
 */
import { parse as parseWithDriver } from 'pg-connection-string';
import { InternalError } from './errors.js';

export const HIDDEN = '***';

/** Connection-URL schemes whose password we hide (libpq's, and any `scheme://` in text). */
const SCHEME_START = /\b[a-z][a-z0-9+.-]*:\/\//gi;
const CONNINFO_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi;
const PGPASSWORD = /(\bPGPASSWORD=)(\S+)/g;

/** Where a URL's password sits in `text` (after the `//` at `authorityStart`): a half-open span. */
interface Span {
  start: number;
  end: number;
}

/**
 * The span of the password in the user information of the URL whose authority starts at
 * `authorityStart`, by libpq's rule: user information ends at the first `@`, unless a
 * `/` (or, in free text, the end of the line) comes first.
 */
function userinfoPassword(text: string, authorityStart: number): Span | undefined {
  let at = authorityStart;
  while (at < text.length && text[at] !== '@' && text[at] !== '/' && text[at] !== '\n') at += 1;
  if (text[at] !== '@') return undefined;
  const colon = text.indexOf(':', authorityStart);
  if (colon < 0 || colon >= at) return undefined;
  return { start: colon + 1, end: at };
}

/** Spans of `password=` parameters in the query of the URL whose authority starts at `authorityStart`. */
function queryPasswords(text: string, authorityStart: number): Span[] {
  let end = text.indexOf('\n', authorityStart);
  if (end < 0) end = text.length;
  const query = text.indexOf('?', authorityStart);
  if (query < 0 || query >= end) return [];
  const spans: Span[] = [];
  let at = query + 1;
  while (at < end) {
    let next = text.indexOf('&', at);
    if (next < 0 || next > end) next = end;
    const space = text.slice(at, next).search(/\s/);
    const itemEnd = space >= 0 ? at + space : next;
    const item = text.slice(at, itemEnd);
    if (/^password=/i.test(item)) spans.push({ start: at + 'password='.length, end: itemEnd });
    if (space >= 0) break; // the URL ended at the blank: what follows is prose
    at = next + 1;
  }
  return spans;
}

function hideSpans(text: string, spans: readonly Span[]): string {
  let result = '';
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < at) continue;
    result += text.slice(at, span.start) + (span.end > span.start ? HIDDEN : '');
    at = span.end;
  }
  return result + text.slice(at);
}

/** Every password span of every URL in `text`. */
function urlPasswordSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(SCHEME_START)) {
    const authorityStart = (match.index ?? 0) + match[0].length;
    const userinfo = userinfoPassword(text, authorityStart);
    if (userinfo) spans.push(userinfo);
    spans.push(...queryPasswords(text, authorityStart));
  }
  return spans;
}

/** Hides passwords in URLs (`postgres://u:secret@h`, `?password=`), conninfo and `PGPASSWORD=`. */
export function redact(text: string): string {
  return hideSpans(text, urlPasswordSpans(text))
    .replace(CONNINFO_PASSWORD, `$1${HIDDEN}`)
    .replace(PGPASSWORD, `$1${HIDDEN}`);
}

/**
 * Options for pg-connection-string's parse: sslmode as libpq (and so psql, which runs the
 * same URLs) reads it — `require` encrypts without checking the certificate, `verify-full`
 * checks it. The driver's default reads require as verify-full and prints a nine-line
 * SECURITY WARNING to stderr. A URL that says `uselibpqcompat` itself is left to say it.
 */
export function libpqParseOptions(url: string): { useLibpqCompat?: boolean } {
  return /[?&]uselibpqcompat=/i.test(url) ? {} : { useLibpqCompat: true };
}

/** The password pg (and psql) would use for `url`, decoded; undefined when it has none or is no URL. */
export function urlPassword(url: string): string | undefined {
  if (!/^postgres(ql)?:\/\//i.test(url)) return undefined;
  if (!userinfoPassword(url, url.indexOf('//') + 2) && !/password=/i.test(url)) return undefined;
  try {
    const password = parseWithDriver(url, libpqParseOptions(url)).password;
    return password ? password : undefined;
  } catch {
    // A URL the driver cannot parse: take libpq's reading of it.
    const span = userinfoPassword(url, url.indexOf('//') + 2);
    if (!span || span.end === span.start) return undefined;
    const raw = url.slice(span.start, span.end);
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
}

/** A connection URL for a message: its password (however written) shown as `***`. */
export function redactUrl(url: string): string {
  const password = urlPassword(url);
  let shown = redact(url);
  // Whatever form the parser found the password in that the spans missed: hide it too.
  if (password) for (const form of new Set([password, encodeURIComponent(password)])) shown = shown.split(form).join(HIDDEN);
  return shown;
}

export interface SeparatedPassword {
  /** The URL without its password (user information and `password=` parameters). */
  url: string;
  /** The decoded password, for `PGPASSWORD`; undefined when the URL had none. */
  password: string | undefined;
}

/**
 * Takes the password out of a connection URL, so the URL can go on a command line and
 * the password through the environment (`PGPASSWORD`), which only the child and root can read.
 */
export function separatePassword(url: string): SeparatedPassword {
  const password = urlPassword(url);
  if (password === undefined) return { url, password: undefined };
  const authorityStart = url.indexOf('//') + 2;
  const spans: Span[] = [];
  const userinfo = userinfoPassword(url, authorityStart);
  // The `:` goes with the password: `user:@host` would name an empty password.
  if (userinfo) spans.push({ start: userinfo.start - 1, end: userinfo.end });
  for (const span of queryPasswords(url, authorityStart)) spans.push({ start: span.start - 'password='.length, end: span.end });
  let stripped = '';
  let at = 0;
  for (const span of spans.sort((a, b) => a.start - b.start)) {
    stripped += url.slice(at, span.start);
    at = span.end;
  }
  stripped += url.slice(at);
  stripped = stripped.replace(/\?&+/, '?').replace(/&&+/g, '&').replace(/[?&]$/, '');
  return { url: stripped, password };
}

/**
 * A command line with the passwords of its connection URLs moved into the child's
 * environment (`PGPASSWORD`, which libpq programs read): `ps` shows every argument to
 * every local user, the environment only to the child's owner and root. One password
 * per command line (one connection); a second, different one cannot go to PGPASSWORD.
 */
export function passwordsOutOfArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { args: string[]; env: Record<string, string | undefined> } {
  let password: string | undefined;
  const safeArgs = args.map((arg) => {
    // `--dbname=URL` and `-dURL` carry a URL as much as `URL` does.
    const option = /^(--[a-z-]+=|-[a-z])(?=postgres(?:ql)?:\/\/)/i.exec(arg)?.[0] ?? '';
    const separated = separatePassword(arg.slice(option.length));
    if (separated.password === undefined) return arg;
    if (password !== undefined && password !== separated.password) {
      throw new InternalError('two different passwords on one command line: only one can travel in PGPASSWORD');
    }
    password = separated.password;
    return option + separated.url;
  });
  return { args: safeArgs, env: password === undefined ? { ...env } : { ...env, PGPASSWORD: password } };
}

const CONNINFO_PASSWORD_SETTING = /(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)/i;

/**
 * `separatePassword` for either form libpq takes: a URL, or a conninfo string
 * (`host=db password='a b' dbname=app`), whose `password=` setting is taken out.
 */
export function separateConnectionPassword(target: string): SeparatedPassword {
  if (/^postgres(ql)?:\/\//i.test(target)) return separatePassword(target);
  const match = CONNINFO_PASSWORD_SETTING.exec(target);
  if (!match?.[2]) return { url: target, password: undefined };
  const raw = match[2];
  const password = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  const url = (target.slice(0, match.index) + match[1] + target.slice(match.index + match[0].length)).replace(/\s+/g, ' ').trim();
  return { url, password };
}
