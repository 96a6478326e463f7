import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Integration tests run the real executables, which load the compiled dist/. */
export default function setup(): void {
  if (!fs.existsSync(path.join(root, 'dist', 'cli', 'database.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it for you)');
  }
}
