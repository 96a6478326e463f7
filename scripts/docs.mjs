// npm run docs: regenerate the README's CLI reference from the commander programs.
// `--check` changes nothing and exits 1 when the README is stale.
import fs from 'node:fs';
import { withCliReference } from '../dist/cli/cli-reference.js';

const readmePath = new URL('../README.md', import.meta.url);
const readme = fs.readFileSync(readmePath, 'utf8');
const fresh = withCliReference(readme);
if (process.argv.includes('--check')) {
  if (fresh !== readme) {
    process.stderr.write('README.md: the CLI reference is stale; run `npm run docs`\n');
    process.exit(1);
  }
} else if (fresh !== readme) {
  fs.writeFileSync(readmePath, fresh);
  process.stderr.write('README.md: CLI reference updated\n');
}
