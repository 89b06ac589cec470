/**
 * Reads a policy for `expert tune apply`: a YAML file holding one policy
 * (the same keys as an entry of a batch's `policies:`) or a `policies:` list
 * from which `--policy NAME` picks one.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { PolicySpec } from '../batch/config/types.js';
import { ConfigError, UserError } from '../errors.js';
import { validatePolicy } from './planner.js';

const POLICY_KEYS = ['name', 'identify', 'pin', 'nice', 'ionice', 'chrt', 'reapply'];

export function parsePolicyText(text: string, file: string, pick?: string): PolicySpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const at = (offset: number | undefined) => {
    const pos = lines.linePos(offset ?? 0);
    return { file, line: pos.line, column: pos.col };
  };
  if (doc.errors.length) throw new ConfigError(at(doc.errors[0]!.pos[0]), doc.errors[0]!.message.split('\n')[0]!);
  const value = doc.toJS() as unknown;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) throw new ConfigError(at(0), 'expected a policy (name:, identify:, pin:, nice:, ...) or a `policies:` list');
  let policies: unknown[];
  if (Array.isArray(value.policies)) policies = value.policies;
  else policies = [value];
  const chosen = pick === undefined ? (policies.length === 1 ? policies[0] : undefined) : policies.find((p) => isObject(p) && p.name === pick);
  if (chosen === undefined) {
    const names = policies.filter(isObject).map((p) => String(p.name));
    throw new UserError(pick === undefined ? `${file}: ${policies.length} policies (${names.join(', ')}); pick one with --policy NAME` : `${file}: no policy named '${pick}' (there are: ${names.join(', ')})`);
  }
  if (!isObject(chosen)) throw new ConfigError(at(0), 'a policy must be a mapping');
  for (const key of Object.keys(chosen)) {
    if (!POLICY_KEYS.includes(key)) throw new UserError(`${file}: unknown policy key '${key}' (expected one of ${POLICY_KEYS.join(', ')})`);
  }
  const policy = { name: 'cli', ...chosen } as PolicySpec;
  if (typeof policy.name !== 'string') throw new UserError(`${file}: policy name must be text`);
  validatePolicy(policy);
  return policy;
}

export async function loadPolicyFile(file: string, pick?: string): Promise<PolicySpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read policy file ${file}: ${(error as Error).message}`);
  }
  return parsePolicyText(text, file, pick);
}
