/** The SSH side of the Executor interface: see ssh-executor.ts. */
export { SshExecutor, type SshExecutorOptions } from './ssh-executor.js';
export { SshConfigResolver, type ResolvedHost } from './ssh-config.js';
export { effectiveSettings, SSH_DEFAULTS, type EffectiveSshSettings } from './settings.js';
export { Semaphore } from './semaphore.js';
export { SshConnectError } from './connect.js';
export { HostKeyError } from './host-keys.js';
export { fingerprint, parseKnownHosts, verifyHostKey } from './known-hosts.js';
export { remoteCommand, PID_MARKER } from './remote-command.js';
