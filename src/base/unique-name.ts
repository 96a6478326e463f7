import crypto from 'node:crypto';

/**
 * `<pid>-<random hex>`: unique among concurrent runs (the pid) and repeated runs of one
 * process (the random part), and tells a cleanup whose process made the name.
 */
export function uniqueSuffix(): string {
  return `${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
}
