// node lock-with-resolved.mjs LOCKFILE REGISTRY
//
// Writes into LOCKFILE the `resolved` URL of every registry package, as npm would have
// written it without `omit-lockfile-registry-resolved`: REGISTRY/NAME/-/BASENAME-VERSION.tgz.
// REGISTRY is what `npm config get registry` says at build time, so no registry is named
// in any file. With `resolved` and `integrity` both known, an offline `npm ci` takes each
// tarball from the cache by its integrity instead of asking the registry for metadata.
import fs from 'node:fs';

const [lockFile, registryArgument] = process.argv.slice(2);
if (!lockFile || !registryArgument) {
  console.error('usage: node lock-with-resolved.mjs LOCKFILE REGISTRY');
  process.exit(2);
}
const registry = registryArgument.endsWith('/') ? registryArgument : `${registryArgument}/`;
const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));

for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (path === '' || entry.link || entry.inBundle || entry.resolved || !entry.version) continue;
  const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const baseName = name.slice(name.lastIndexOf('/') + 1);
  entry.resolved = `${registry}${name}/-/${baseName}-${entry.version}.tgz`;
}
fs.writeFileSync(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
