#!/usr/bin/env node
/**
 * What the installed `expert` kernelspec starts: finds the project of the
 * notebook and starts that project's kernel, so a notebook's magics and its
 * `import ... from "expert-ts"` are one library instance, whichever clone
 * installed the kernelspec. Jupyter starts a kernel in the notebook's folder;
 * the project is the nearest folder above it that is the expert-ts package
 * (a clone) or has it in node_modules/ (a project that depends on it). A
 * notebook outside any project gets the installing clone's kernel.
 *
 * `expert kernel install` copies this file into the kernelspec folder, so it
 * imports nothing but Node's own modules.
 *
 *   launcher.mjs --fallback <project> --config-path <connection file>
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE_NAME = 'expert-ts';

function isPackage(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** The expert-ts project a notebook in `start` belongs to, or undefined. */
export function projectOf(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (isPackage(dir)) return dir;
    const dependency = path.join(dir, 'node_modules', PACKAGE_NAME);
    if (isPackage(dependency)) return realpathSync(dependency);
    if (path.dirname(dir) === dir) return undefined;
  }
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}

async function main(): Promise<void> {
  const configPath = option('--config-path');
  if (!configPath) {
    console.error('usage: launcher.mjs [--fallback PROJECT] --config-path <connection file> (Jupyter starts this; see `expert kernel install`)');
    process.exit(2);
  }
  const project = projectOf(process.cwd()) ?? option('--fallback');
  if (!project) {
    console.error(`expert kernel: ${process.cwd()} is in no expert-ts project and the kernelspec names none: run \`expert kernel install\` again`);
    process.exit(1);
  }
  const kernel = path.join(project, 'dist', 'kernel-extensions', 'kernel.js');
  if (!existsSync(kernel)) {
    console.error(`expert kernel: the project ${project} is not built (no ${kernel}): run \`npm run build\` there`);
    process.exit(1);
  }
  const { startExpertKernel } = (await import(pathToFileURL(kernel).href)) as { startExpertKernel(configPath: string): void };
  startExpertKernel(configPath);
}

function isEntryPoint(): boolean {
  try {
    return Boolean(process.argv[1]) && realpathSync(process.argv[1]!) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// A test imports projectOf; only a start by Jupyter (or by hand) runs a kernel.
if (isEntryPoint()) await main();
