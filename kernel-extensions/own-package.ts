/**
 * `import { openStore } from "expert-ts"` in a notebook cell of the project
 * itself (notebooks/ of a clone). At run time Node resolves the name by the
 * package's self-reference (package.json "exports"), to the same files the
 * kernel's magics are loaded from: one library instance. tslab type-checks
 * with TypeScript's older node10 resolution, which looks only in
 * node_modules/ folders; so the kernel shows TypeScript the project as
 * `node_modules/expert-ts` under any folder of the project, as tslab itself
 * does for its own `tslab` module. A project that has expert-ts as a real
 * dependency (node_modules/expert-ts exists) is left alone.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export const PACKAGE_NAME = 'expert-ts';

/** The real path behind `file` when it is `<folder in root>/node_modules/expert-ts[/...]` and no such file exists. Pure but for existsSync. */
export function ownPackagePath(file: string, root: string): string | undefined {
  const marker = `${path.sep}node_modules${path.sep}${PACKAGE_NAME}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const rest = file.slice(at + marker.length);
  if (rest !== '' && !rest.startsWith(path.sep)) return undefined; // expert-ts-other
  const folder = file.slice(0, at);
  const inside = folder === root || folder.startsWith(root + path.sep);
  if (!inside || folder.startsWith(path.join(root, 'node_modules'))) return undefined;
  if (existsSync(path.join(folder, 'node_modules', PACKAGE_NAME))) return undefined;
  return path.join(root, rest);
}

interface TypeScriptSystem {
  fileExists(file: string): boolean;
  directoryExists?(dir: string): boolean;
  readFile(file: string, encoding?: string): string | undefined;
  realpath?(file: string): string;
}

/** Wraps TypeScript's `sys` (the one tslab's compiler host delegates to) so the mapping above applies to every lookup. */
export function exposeOwnPackage(sys: TypeScriptSystem, root: string): void {
  const mapped = (file: string) => ownPackagePath(file, root) ?? file;
  const { fileExists, directoryExists, readFile, realpath } = sys;
  sys.fileExists = (file) => fileExists.call(sys, mapped(file));
  if (directoryExists) sys.directoryExists = (dir) => directoryExists.call(sys, mapped(dir));
  sys.readFile = (file, encoding) => readFile.call(sys, mapped(file), encoding);
  // The real path makes TypeScript see one set of declarations, whichever folder imported them.
  sys.realpath = (file) => (realpath ? realpath.call(sys, mapped(file)) : mapped(file));
}
