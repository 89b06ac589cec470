/**
 * Installing expert-ts the ways a user does, so user-level tests drive the
 * installed `expert` command and never `node dist/...`: a real `npm pack` of the
 * checkout, installed globally into a temporary prefix or into a temporary
 * project, and `npm link` (also from the checkout reached through a symlinked
 * folder). npm prefers its cache (`--prefer-offline`): what setup's `npm ci`
 * cached is not fetched again, but the package documents a dependency
 * resolution needs (which `npm ci` from a lockfile never fetches) come from the
 * registry on a fresh machine, as they do for a user. danfojs asks for xlsx
 * from cdn.sheetjs.com, which a machine that reaches only the registry cannot
 * resolve (the project's `overrides` do not apply to an installed package): npm
 * retries it quickly here and goes on without it, as it is optional.
 * Build first (`npx tsc -p tsconfig.json`): packing does not build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout these tests belong to (tests/user/helpers/ → the package folder). */
export const CHECKOUT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export const PACKAGE = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as { name: string; version: string };

/** An installed `expert`: the command's path, and an environment whose PATH finds it first as plain `expert`. */
export interface Installed {
  how: string;
  bin: string;
  env: NodeJS.ProcessEnv;
}

const NPM_TIMEOUT_MS = 240_000;

/** Runs npm with the flags every install here shares; throws with npm's stderr when it fails. */
function npm(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; logs: string }): string {
  const result = spawnSync('npm', [...args, '--prefer-offline', '--fetch-retry-mintimeout=200', '--fetch-retry-maxtimeout=1000', '--no-audit', '--no-fund', '--loglevel=error', '--logs-dir', options.logs], {
    cwd: options.cwd,
    env: { ...process.env, npm_config_update_notifier: 'false', ...options.env },
    encoding: 'utf8',
    timeout: NPM_TIMEOUT_MS,
  });
  if (result.status !== 0) {
    const why = result.error ? String(result.error) : `exit ${result.status}`;
    throw new Error(`npm ${args.join(' ')} (in ${options.cwd}) failed, ${why}:\n${result.stderr.trim()}`);
  }
  return result.stdout;
}

export function installedAt(how: string, bin: string): Installed {
  if (!existsSync(bin)) throw new Error(`${how}: no ${bin} after installing`);
  const binDir = resolve(bin, '..');
  return { how, bin, env: { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` } };
}

/** `npm pack` of the checkout into `dir`; the tarball's path. */
export function packTarball(dir: string): string {
  mkdirSync(dir, { recursive: true });
  npm(['pack', '--pack-destination', dir], { cwd: CHECKOUT, logs: join(dir, 'npm-logs') });
  const tarball = readdirSync(dir).find((f) => f.startsWith(`${PACKAGE.name}-`) && f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no ${PACKAGE.name}-*.tgz in ${dir}`);
  return join(dir, tarball);
}

/** `npm install -g --prefix <prefix> <tarball>`: a global install, as from the registry. */
export function installGlobal(tarball: string, prefix: string): Installed {
  npm(['install', '-g', '--prefix', prefix, tarball], { cwd: resolve(tarball, '..'), logs: join(prefix, '..', 'npm-logs') });
  return installedAt('global install', join(prefix, 'bin', 'expert'));
}

/** A fresh project (package.json only) that installs the tarball as a dependency: its `node_modules/.bin/expert`. */
export function installInProject(tarball: string, project: string): Installed {
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'a-study', version: '1.0.0', private: true, type: 'module' }, null, 2));
  npm(['install', tarball], { cwd: project, logs: join(project, '..', 'npm-logs') });
  return installedAt('project dependency', join(project, 'node_modules', '.bin', 'expert'));
}

/**
 * `npm link` in `checkout` (the README's way) with the global prefix pointed at
 * `prefix`, so nothing outside the temporary folder changes.
 */
export function linkCheckout(checkout: string, prefix: string): Installed {
  mkdirSync(prefix, { recursive: true });
  npm(['link'], { cwd: checkout, env: { npm_config_prefix: prefix }, logs: join(prefix, '..', 'npm-logs') });
  return installedAt(checkout === CHECKOUT ? 'npm link' : `npm link from ${checkout}`, join(prefix, 'bin', 'expert'));
}

/** The checkout reached through a symlinked folder (`ln -s /work/main <dir>/checkout`). */
export function symlinkedCheckout(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const link = join(dir, 'checkout');
  symlinkSync(CHECKOUT, link, 'dir');
  return link;
}
