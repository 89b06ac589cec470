/**
 * The installed kernel finds the notebook's project (launcher.ts), and
 * TypeScript in a clone sees the clone itself as `expert-ts` (own-package.ts):
 * real folders and package.json files in a temporary tree.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectOf } from '../../kernel-extensions/launcher.js';
import { ownPackagePath } from '../../kernel-extensions/own-package.js';

function tree(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'expert-launcher-')));
  const pkg = (folder: string, name: string) => {
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name }));
  };
  pkg(join(dir, 'clone2'), 'expert-ts');
  mkdirSync(join(dir, 'clone2', 'notebooks', 'deep'), { recursive: true });
  pkg(join(dir, 'study'), 'my-study');
  pkg(join(dir, 'study', 'node_modules', 'expert-ts'), 'expert-ts');
  mkdirSync(join(dir, 'study', 'analysis'), { recursive: true });
  pkg(join(dir, 'linked'), 'linked-study');
  mkdirSync(join(dir, 'linked', 'node_modules'), { recursive: true });
  symlinkSync(join(dir, 'clone2'), join(dir, 'linked', 'node_modules', 'expert-ts'));
  pkg(join(dir, 'other'), 'not-expert');
  return dir;
}

test('the project of a notebook is the nearest clone above it, or the expert-ts it depends on', () => {
  const dir = tree();
  try {
    assert.equal(projectOf(join(dir, 'clone2', 'notebooks', 'deep')), join(dir, 'clone2'));
    assert.equal(projectOf(join(dir, 'clone2')), join(dir, 'clone2'));
    assert.equal(projectOf(join(dir, 'study', 'analysis')), join(dir, 'study', 'node_modules', 'expert-ts'));
    assert.equal(projectOf(join(dir, 'linked')), join(dir, 'clone2'), 'an npm-linked dependency is its real folder');
    assert.equal(projectOf(join(dir, 'other')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inside a clone, node_modules/expert-ts under any of its folders is the clone itself (for TypeScript)', () => {
  const dir = tree();
  const clone = join(dir, 'clone2');
  try {
    assert.equal(ownPackagePath(join(clone, 'notebooks', 'node_modules', 'expert-ts', 'package.json'), clone), join(clone, 'package.json'));
    assert.equal(ownPackagePath(join(clone, 'node_modules', 'expert-ts', 'dist', 'src', 'index.d.ts'), clone), join(clone, 'dist', 'src', 'index.d.ts'));
    assert.equal(ownPackagePath(join(clone, 'notebooks', 'node_modules', 'expert-ts'), clone), clone);
    assert.equal(ownPackagePath(join(clone, 'notebooks', 'node_modules', 'expert-tsx', 'a.d.ts'), clone), undefined, 'another package');
    assert.equal(ownPackagePath(join(dir, 'other', 'node_modules', 'expert-ts', 'package.json'), clone), undefined, 'outside the clone');
    assert.equal(ownPackagePath(join(clone, 'node_modules', 'dep', 'node_modules', 'expert-ts', 'x.d.ts'), clone), undefined, "a dependency's own copy");
    const study = join(dir, 'study');
    assert.equal(ownPackagePath(join(study, 'node_modules', 'expert-ts', 'package.json'), study), undefined, 'a real dependency stays itself');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
