/**
 * The expert-ts package folder (where its package.json is), found from this
 * module's own location: src/ under tsx, dist/src/ after tsc, or an install
 * under node_modules. Files that are not compiled (shell and Python helpers,
 * the guest image scripts) are found from here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'expert-ts') return (root = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the expert-ts package folder above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
