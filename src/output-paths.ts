/**
 * Checking where a verb is asked to write, before it writes: the nearest
 * existing ancestor must be a writable directory. Node's recursive mkdir spins
 * forever on some pseudo file systems (`/proc/nope`), and its raw errors
 * (ENOTDIR, EACCES) say neither which flag nor what to do, so directories are
 * made one level at a time here.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors.js';

function kind(path: string): 'dir' | 'file' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return 'missing';
    throw error;
  }
}

/** Makes directory `dir` (and missing parents) for `flag`, or says why it cannot. Returns its absolute path. */
export function prepareDirectory(dir: string, flag: string): string {
  if (dir.trim() === '') throw new UserError(`${flag}: give a directory`);
  const target = resolve(dir);
  const missing: string[] = [];
  let existing = target;
  while (kind(existing) === 'missing') {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  if (kind(existing) === 'file') {
    throw new UserError(`${flag} ${dir}: ${existing} is a file, not a directory.`);
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw new UserError(`${flag} ${dir}: cannot write in ${existing} (permission denied).`);
  }
  for (const path of missing) {
    try {
      mkdirSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UserError(`${flag} ${dir}: cannot create ${path} (${code ?? (error as Error).message}).`);
    }
  }
  return target;
}

/** Checks that file `path` can be written for `flag` (its folder exists and is writable, it is not a folder). */
export function checkOutputFile(path: string, flag: string): string {
  if (path.trim() === '') throw new UserError(`${flag}: give a file name`);
  const target = resolve(path);
  if (kind(target) === 'dir') throw new UserError(`${flag} ${path}: is a directory; give a file name.`);
  const folder = dirname(target);
  const folderKind = kind(folder);
  if (folderKind !== 'dir') throw new UserError(`${flag} ${path}: folder ${folder} ${folderKind === 'file' ? 'is a file' : 'does not exist'}.`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw new UserError(`${flag} ${path}: cannot write in ${folder} (permission denied).`);
  }
  return target;
}
