/**
 * The batch config as users write it (YAML or TypeScript) and the plan it
 * expands to. Key names are interfaces (DESIGN.md): add, never rename.
 */

/** `nodes` | `vms` | a list of node or guest names. */
export type Placement = 'nodes' | 'vms' | string[];

export interface VmSpec {
  name: string;
  host?: string;
  port?: number;
  user?: string;
}

export interface NodeSpec {
  name: string;
  /** `local` runs on this machine without SSH. */
  host: string;
  user?: string;
  port?: number;
  vms?: VmSpec[];
  /** How this node's processes start: `ssh` (or locally for `host: local`), `srun` (a Slurm job step on the node named `name`). Default: the map's. */
  launcher?: Launcher;
}

export type Launcher = 'ssh' | 'srun';

/** `slurm:` in a machine map: nodes from the current allocation (SLURM_JOB_NODELIST), guests per node from a template, or found on each node. */
export interface SlurmMachines {
  /**
   * A template `{count, name?, host?, port?, user?}`: `{node}`, `{host}` (the node's NodeAddr), `{index}` (1-based guest)
   * and `{node_index}` (1-based node) are filled per node. Or `discover` / `{discover: true, user?, identityFile?}`: Tune's
   * discovery through srun on each node finds its QEMU guests (name from `-name`, SSH address from the user-net forward to port 22).
   */
  vms?: 'discover' | SlurmVms;
}

export interface SlurmVms {
  /** Template guests per node (required unless `discover`). */
  count?: number;
  name?: string;
  host?: string;
  port?: string | number;
  user?: string;
  /** Find each node's guests with Tune's discovery instead of a template. */
  discover?: boolean;
  /** With `discover`: the key the guests take (the map's `ssh.identityFile`). */
  identityFile?: string;
}

/** srun options for every step (the machine map's `srun:`). */
export interface SrunSettings {
  args?: string[];
}

/** SSH settings for a whole machine map (the testbed writes its own). */
export interface SshSettings {
  /** An ssh_config file read before ~/.ssh/config. */
  config?: string;
  identityFile?: string;
  /** A known_hosts file checked before ~/.ssh/known_hosts. */
  knownHosts?: string;
  /** Like ssh's `StrictHostKeyChecking accept-new`: record unknown keys; a changed key is still refused. */
  acceptNewHostKeys?: boolean;
  /** Connection timeout for one attempt (TCP + handshake + authentication), ms. Default 15000. */
  connectTimeoutMs?: number;
  /** Extra connection attempts after a failed one (not after a refused host key or failed authentication). Default 2. */
  connectRetries?: number;
  /** Pause before a retry, ms (doubles each time). Default 500. */
  retryDelayMs?: number;
  /** SSH keepalive interval, ms (0 = off). Default 5000. */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection counts as lost. Default 3. */
  keepaliveCountMax?: number;
  /** Handshakes in flight at once, over all hosts. Default 32. */
  maxConcurrentHandshakes?: number;
  /** Channels per connection (the server's `MaxSessions`, 10 by default in OpenSSH). Default 10. */
  maxSessionsPerConnection?: number;
  /** Connections per host, opened when every connection's channels are busy (more processes queue). Default 8. */
  maxConnectionsPerHost?: number;
  /** How long `kill` waits between SIGTERM and SIGKILL, ms. Default 3000. */
  killGraceMs?: number;
  /** How long a remote command may take from its channel opening to running (and how long refused channel opens are retried), ms. Default 60000. */
  startTimeoutMs?: number;
}

export interface MachineMap {
  nodes: NodeSpec[];
  ssh?: SshSettings;
  /** Facts about the local testbed that wrote this map (accel, image...); free-form, copied into provenance. */
  testbed?: Record<string, unknown>;
  /** Default launcher of every node (`srun` under `slurm:`, else `ssh`). */
  launcher?: Launcher;
  /** The nodes are those of the current Slurm allocation; `nodes:` entries then only add details for nodes of that name. Resolved away when the config loads. */
  slurm?: boolean | SlurmMachines;
  srun?: SrunSettings;
}

export interface MonitorSpec {
  name: string;
  on: Placement;
  command: string;
  parser?: string;
}

export type ParamValue = string | number | boolean;

export interface TestSpec {
  name: string;
  on: Placement;
  command: string;
  /** Cartesian product of every list, except keys bound together in `zip`. */
  params?: Record<string, ParamValue | ParamValue[]>;
  /** Groups of param keys whose lists advance together (same length). */
  zip?: string[][];
  /** Combinations to leave out: each rule matches when every key it names equals (a list value: equals any of them). */
  exclude?: Record<string, ParamValue | ParamValue[]>[];
  /** A number of repetitions (default 1), or adaptive: at least `min`, then more rounds while the CI is wider than `until.ci`, at most `max`. */
  repeat?: number | AdaptiveRepeat;
  /** Extra runs per cell before the measured ones: stored, flagged `process.warmup`, left out of statistics. Default 0. */
  warmup?: number;
  /** e.g. `10m`, `30s`, `1500ms`, or a number of seconds. */
  timeout?: string | number;
  parser?: string;
  /** Text written to the workload's stdin. */
  stdin?: string;
}

/** `repeat: {min, max, until: {metric, ci}}`: keep adding rounds of the cells whose median's 95% CI half-width exceeds `ci` percent of the median. */
export interface AdaptiveRepeat {
  min: number;
  max: number;
  until: {
    /** A column of Mine's run summary, e.g. `iozone_write_kbps`. */
    metric: string;
    /** Target half-width: `5%`, or a number of percent. */
    ci: string | number;
  };
}

/** `interleaved` (default): each repetition runs every cell once, policies rotating; `random`: a seeded shuffle within each repetition; `sequential`: test → params → policy → repetition. */
export type RunOrder = 'interleaved' | 'sequential' | 'random' | { random: number };

/** The order after resolving: a `random` order always has its seed (given, or chosen and recorded). */
export type ResolvedOrder = { kind: 'interleaved' } | { kind: 'sequential' } | { kind: 'random'; seed: number; seedChosen: boolean };

export interface PolicySpec {
  name: string;
  identify?: { vms?: 'all' | string[]; top?: { k: number; by?: 'io'; window?: string | number } };
  pin?: { cpus: number[]; threads?: 'all' | 'vcpu' | 'iothread' | 'emulator' | Array<'vcpu' | 'iothread' | 'emulator'> };
  nice?: number;
  ionice?: { class: 'realtime' | 'best-effort' | 'idle' | 1 | 2 | 3; level?: number };
  chrt?: { policy: 'other' | 'fifo' | 'rr' | 'batch' | 'idle'; priority?: number };
  /** libvirt guests only: `virsh schedinfo --live` parameters by virsh's names (cpu_shares, vcpu_quota, ...), restored afterwards. */
  cputune?: Partial<Record<'cpu_shares' | 'vcpu_period' | 'vcpu_quota' | 'emulator_period' | 'emulator_quota' | 'iothread_period' | 'iothread_quota' | 'global_period' | 'global_quota', number>>;
  /** Re-apply at this interval during the run (threads that appear later). */
  reapply?: string | number;
  /** An online optimizer that moves guests' threads while the workload runs (src/tune/dynamic-climb.ts). */
  dynamic?: DynamicPolicySpec;
}

export type GuestFigure = 'write_bps' | 'read_bps' | 'io_bps' | 'ctx_switches_per_s' | 'cpu_pct';
export type MonitorColumn = `vmstat_${string}` | `perf_${string}`;

/** `dynamic: {optimizer: hill-climb, objective, interval, settle, moves}`: every move is recorded in `dynamic_move`, everything is restored at the end. */
export interface DynamicPolicySpec {
  optimizer: 'hill-climb';
  /**
   * A live figure summed over the guests: `write_bps`, `read_bps`, `io_bps` (higher is better), `ctx_switches_per_s`,
   * `cpu_pct` (lower is better); or a column of the run's monitors as the live views name it (`vmstat_cs`,
   * `perf_context_switches`): its mean over the window, averaged over the nodes (direction from its name).
   */
  objective: GuestFigure | MonitorColumn;
  direction?: 'max' | 'min';
  /** The window the objective is measured over, before and after each move (default 5s). */
  interval?: string | number;
  /** Wait after a move before measuring (default 2s). */
  settle?: string | number;
  /** What a move may change (default [pin, nice]). */
  moves?: Array<'pin' | 'nice'>;
  /** CPU sets a pin move chooses from (`any` for not pinned; default: `any` and each CPU of the node). */
  cpus?: Array<'any' | number | number[] | string>;
  /** Nice levels a nice move chooses from (default [0, 5, 10]). */
  nice?: number[];
  /** A move is kept when it helps by more than this percent and more than twice the noise seen between windows (default 5). */
  threshold?: number;
  /** Guests to move (default: every guest on the run's nodes). */
  guests?: string[];
  seed?: number;
}

export interface BatchConfig {
  name: string;
  description?: string;
  /** A path to a machine map (relative to the config file), an inline map, `testbed`, or `slurm` (the nodes of the current allocation). Absent: this machine only (one node `local`, host `local`). */
  machines?: string | MachineMap;
  monitors?: MonitorSpec[];
  tests: TestSpec[];
  policies?: PolicySpec[];
  /** Run order (default `interleaved`). */
  order?: RunOrder;
  /** Refuse to start (exit 2) when a pre-flight check fails on some node. Default false: warnings only. */
  strict?: boolean;
}

/** The config after loading: machine map resolved, defaults filled, source file known. */
export interface ResolvedBatchConfig extends BatchConfig {
  machines: MachineMap;
  monitors: MonitorSpec[];
  policies: PolicySpec[];
  /** Absolute path of the YAML file, or undefined when built in TypeScript. */
  source?: string;
}

/** Where a process runs. */
export interface Target {
  node: string;
  /** Set when the process runs inside a guest. */
  vm?: string;
  /** `local`, or an SSH host (alias from ~/.ssh/config or address). */
  host: string;
  port?: number;
  user?: string;
  /** The machine map's SSH settings, carried so an executor can be made from a Target alone. */
  ssh?: SshSettings;
  /** Set for a node whose processes start as Slurm job steps (never for a guest). */
  launcher?: 'srun';
  srun?: SrunSettings;
}

export interface PlannedProcess {
  /** Unique within the batch, e.g. `iozone-write[size=16m,reclen=64k] pin-one #1 @node1/vm2` (workload), `vmstat (run 3) @node1` (monitor). */
  label: string;
  role: 'workload' | 'monitor';
  /** The test or monitor name. */
  name: string;
  target: Target;
  /** Shell command with every plan-time placeholder substituted, shell-quoted. Run-time placeholders ({guest_pids}, {guest_tids}) stay. */
  command: string;
  params: Record<string, string>;
  policy: string;
  rep: number;
  parser?: string;
  timeoutMs?: number;
  stdin?: string;
}

/** One run: a test with one parameter combination under one policy, one repetition (or warm-up). Runs execute one after another. */
export interface PlannedRun {
  /** 1-based run index (`process.run`, the `{run}` placeholder): the run's place in sequential order (test → params → policy → warm-ups, reps), whatever order it executes in; adaptive rounds continue after the last. */
  index: number;
  /** 1-based place in execution order (`process.position`). */
  position: number;
  /** 1-based round: every cell runs at most once per round; warm-up rounds come first. */
  round: number;
  /** A warm-up run: stored and flagged, left out of statistics. `rep` then counts warm-ups (1..warmup). */
  warmup: boolean;
  test: string;
  params: Record<string, string>;
  policy: string;
  rep: number;
  monitors: PlannedProcess[];
  workloads: PlannedProcess[];
}

export interface Plan {
  config: ResolvedBatchConfig;
  /** How `runs` were ordered (with the seed of a random order). */
  order: ResolvedOrder;
  /** In execution order (by `position`). */
  runs: PlannedRun[];
}
