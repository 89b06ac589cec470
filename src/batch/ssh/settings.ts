/**
 * The machine map's `ssh:` settings with every default filled in. Defaults
 * follow OpenSSH where it has one (MaxSessions 10) and are short enough that
 * nothing hangs: an unreachable host fails its processes in well under a minute.
 */
import type { SshSettings } from '../config/types.js';
import { UserError } from '../../errors.js';

export interface EffectiveSshSettings {
  config?: string;
  identityFile?: string;
  knownHosts?: string;
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  connectRetries: number;
  retryDelayMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  maxConcurrentHandshakes: number;
  maxSessionsPerConnection: number;
  maxConnectionsPerHost: number;
  killGraceMs: number;
  startTimeoutMs: number;
}

export const SSH_DEFAULTS = {
  acceptNewHostKeys: false,
  connectTimeoutMs: 15_000,
  connectRetries: 2,
  retryDelayMs: 500,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  maxConcurrentHandshakes: 32,
  maxSessionsPerConnection: 10,
  maxConnectionsPerHost: 8,
  killGraceMs: 3_000,
  startTimeoutMs: 60_000,
} as const;

const NUMERIC: Array<keyof typeof SSH_DEFAULTS> = [
  'connectTimeoutMs', 'connectRetries', 'retryDelayMs', 'keepaliveIntervalMs', 'keepaliveCountMax',
  'maxConcurrentHandshakes', 'maxSessionsPerConnection', 'maxConnectionsPerHost', 'killGraceMs', 'startTimeoutMs',
];
const AT_LEAST_ONE = new Set(['maxConcurrentHandshakes', 'maxSessionsPerConnection', 'maxConnectionsPerHost', 'connectTimeoutMs', 'startTimeoutMs']);

export function effectiveSettings(settings: SshSettings = {}): EffectiveSshSettings {
  for (const key of NUMERIC) {
    const value = (settings as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const min = AT_LEAST_ONE.has(key) ? 1 : 0;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new UserError(`machine map ssh.${key} must be a number >= ${min}, got ${JSON.stringify(value)}`);
    }
  }
  const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  return { ...SSH_DEFAULTS, ...defined } as EffectiveSshSettings;
}
