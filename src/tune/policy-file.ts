/**
 * Reads a policy for `expert tune apply`: a YAML file holding one policy
 * (the same keys as an entry of a batch's `policies:`) or a `policies:` list
 * from which `--policy NAME` picks one. Checked with the batch config's
 * policy schema, so mistakes are reported at file:line:column.
 */
import { readFile } from 'node:fs/promises';
import type { PolicySpec } from '../batch/config/types.js';
import { policySchema, type Schema } from '../batch/config/schema.js';
import { ConfigSource } from '../batch/config/source.js';
import { isPlainObject, validate } from '../batch/config/validate.js';
import { UserError } from '../errors.js';
import { validatePolicy } from './planner.js';

/** A policy file's policy may leave out its name (it is then `cli`). */
const policyFileSchema: Schema = {
  type: 'object',
  fields: { ...(policySchema as Extract<Schema, { type: 'object' }>).fields, name: { schema: { type: 'string', nonEmpty: true } } },
};

export function parsePolicyText(text: string, file: string, pick?: string): PolicySpec {
  const source = ConfigSource.fromText(text, file);
  const value = source.toJS();
  if (!isPlainObject(value)) throw source.error([], 'expected a policy (name:, identify:, pin:, nice:, ...) or a `policies:` list');
  const listed = Array.isArray(value.policies);
  const policies: unknown[] = listed ? (value.policies as unknown[]) : [value];
  const index = pick === undefined ? (policies.length === 1 ? 0 : -1) : policies.findIndex((p) => isPlainObject(p) && p.name === pick);
  if (index < 0) {
    const names = policies.filter(isPlainObject).map((p) => String(p.name));
    throw new UserError(pick === undefined ? `${file}: ${policies.length} policies (${names.join(', ')}); pick one with --policy NAME` : `${file}: no policy named '${pick}' (there are: ${names.join(', ')})`);
  }
  const chosen = policies[index];
  validate(chosen, policyFileSchema, source, listed ? ['policies', index] : []);
  const policy = { name: 'cli', ...(chosen as object) } as PolicySpec;
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
