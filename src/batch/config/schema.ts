/**
 * The shape of a batch config and of a machine map, as data. The walker in
 * validate.ts checks a value against it and reports the first problem at its
 * YAML position. Keys here are the DESIGN.md interface: add, never rename.
 */

export type Schema =
  /** `pattern` admits strings outside `enum` too (`patternText` says what it admits, for the error). */
  | { type: 'string'; enum?: readonly string[]; pattern?: RegExp; patternText?: string; nonEmpty?: boolean }
  | { type: 'integer'; min?: number; max?: number }
  | { type: 'boolean' }
  /** Anything (free-form data carried along, e.g. the testbed's facts). */
  | { type: 'any' }
  /** A parameter value: string, number or boolean. */
  | { type: 'scalar' }
  /** `10m`, `30s`, `1500ms` or a number of seconds. */
  | { type: 'duration'; positive?: boolean }
  | { type: 'list'; items: Schema; nonEmpty?: boolean }
  | { type: 'object'; fields: Record<string, Field> }
  /** Free keys (e.g. params), each value checked against `values`. */
  | { type: 'map'; values: Schema }
  /** One schema per JSON type; `expected` says it in words. */
  | { type: 'union'; string?: Schema; number?: Schema; boolean?: Schema; list?: Schema; object?: Schema; expected: string };

export interface Field {
  schema: Schema;
  required?: boolean;
}

const str: Schema = { type: 'string', nonEmpty: true };
const name: Field = { schema: str, required: true };
const scalarOrList: Schema = {
  type: 'union',
  string: { type: 'scalar' },
  number: { type: 'scalar' },
  boolean: { type: 'scalar' },
  list: { type: 'list', items: { type: 'scalar' }, nonEmpty: true },
  expected: 'a value (string, number, boolean) or a non-empty list of values',
};
const placement: Schema = {
  type: 'union',
  string: str,
  list: { type: 'list', items: str, nonEmpty: true },
  expected: '`nodes`, `vms`, a node or guest name, or a list of names',
};
const port: Schema = { type: 'integer', min: 1, max: 65535 };
/** How a node's processes start: over SSH (or locally for `host: local`), or as Slurm job steps. */
const launcher: Schema = { type: 'string', enum: ['ssh', 'srun'] };

export const vmSchema: Schema = {
  type: 'object',
  fields: { name, host: { schema: str }, port: { schema: port }, user: { schema: str } },
};

export const nodeSchema: Schema = {
  type: 'object',
  fields: {
    name,
    host: { schema: str, required: true },
    user: { schema: str },
    port: { schema: port },
    vms: { schema: { type: 'list', items: vmSchema } },
    launcher: { schema: launcher },
  },
};

export const sshSchema: Schema = {
  type: 'object',
  fields: {
    config: { schema: str },
    identityFile: { schema: str },
    knownHosts: { schema: str },
    acceptNewHostKeys: { schema: { type: 'boolean' } },
    // Connection tuning of the SSH engine (see SshSettings in types.ts).
    ...Object.fromEntries(
      [
        'connectTimeoutMs',
        'connectRetries',
        'retryDelayMs',
        'keepaliveIntervalMs',
        'keepaliveCountMax',
        'maxConcurrentHandshakes',
        'maxSessionsPerConnection',
        'maxConnectionsPerHost',
        'killGraceMs',
        'startTimeoutMs',
      ].map((key) => [key, { schema: { type: 'integer', min: 0 } as Schema }]),
    ),
  },
};

/** `slurm:` in a machine map: the nodes come from the current allocation, guests from a template (see src/slurm). */
export const slurmMachinesSchema: Schema = {
  type: 'object',
  fields: {
    vms: {
      schema: {
        type: 'union',
        string: { type: 'string', enum: ['discover'] },
        object: {
          type: 'object',
          fields: {
            // Required unless `discover: true` (machine-map.ts says so at the `vms:` position).
            count: { schema: { type: 'integer', min: 0 } },
            name: { schema: str },
            host: { schema: str },
            port: { schema: { type: 'union', string: str, number: port, expected: 'a port number or a template like "220{index}"' } },
            user: { schema: str },
            discover: { schema: { type: 'boolean' } },
            identityFile: { schema: str },
          },
        },
        expected: '`discover`, a template {count, name?, host?, port?, user?}, or {discover: true, user?, identityFile?}',
      },
    },
  },
};

export const machineMapSchema: Schema = {
  type: 'object',
  fields: {
    // Required unless `slurm:` gives the nodes (checkMachineMap says so at the map's position).
    nodes: { schema: { type: 'list', items: nodeSchema, nonEmpty: true } },
    ssh: { schema: sshSchema },
    testbed: { schema: { type: 'map', values: { type: 'any' } } },
    launcher: { schema: launcher },
    slurm: { schema: { type: 'union', boolean: { type: 'boolean' }, object: slurmMachinesSchema, expected: 'true, or {vms: {count, name?, host?, port?, user?}}, or {vms: discover}' } },
    srun: { schema: { type: 'object', fields: { args: { schema: { type: 'list', items: str } } } } },
  },
};

export const monitorSchema: Schema = {
  type: 'object',
  fields: { name, on: { schema: placement }, command: { schema: str, required: true }, parser: { schema: str } },
};

export const testSchema: Schema = {
  type: 'object',
  fields: {
    name,
    on: { schema: placement },
    command: { schema: str, required: true },
    params: { schema: { type: 'map', values: scalarOrList } },
    zip: { schema: { type: 'list', items: { type: 'list', items: str, nonEmpty: true } } },
    exclude: { schema: { type: 'list', items: { type: 'map', values: scalarOrList } } },
    repeat: {
      schema: {
        type: 'union',
        number: { type: 'integer', min: 1 },
        object: {
          type: 'object',
          fields: {
            min: { schema: { type: 'integer', min: 1 }, required: true },
            max: { schema: { type: 'integer', min: 1 }, required: true },
            until: {
              schema: {
                type: 'object',
                fields: {
                  metric: { schema: str, required: true },
                  // `5%`, or a number of percent; checked further in checks.ts.
                  ci: { schema: { type: 'union', string: str, number: { type: 'scalar' }, expected: 'a percentage like 5%' }, required: true },
                },
              },
              required: true,
            },
          },
        },
        expected: 'a number of repetitions, or {min: N, max: N, until: {metric: <summary column>, ci: 5%}}',
      },
    },
    warmup: { schema: { type: 'integer', min: 0 } },
    timeout: { schema: { type: 'duration', positive: true } },
    parser: { schema: str },
    stdin: { schema: { type: 'string' } },
  },
};

const threadKind = { type: 'string', enum: ['vcpu', 'iothread', 'emulator'] } as const;

/** `dynamic:` of a policy: the online optimizer (src/tune/dynamic-climb.ts). */
const dynamicSchema: Schema = {
  type: 'object',
  fields: {
    optimizer: { schema: { type: 'string', enum: ['hill-climb'] }, required: true },
    objective: { schema: { type: 'string', enum: ['write_bps', 'read_bps', 'io_bps', 'ctx_switches_per_s', 'cpu_pct'], pattern: /^(vmstat|perf)_[a-z0-9_]+$/, patternText: 'a monitor column (vmstat_<column>, perf_<event>)' }, required: true },
    direction: { schema: { type: 'string', enum: ['max', 'min'] } },
    interval: { schema: { type: 'duration', positive: true } },
    settle: { schema: { type: 'duration' } },
    moves: { schema: { type: 'list', items: { type: 'string', enum: ['pin', 'nice'] }, nonEmpty: true } },
    cpus: {
      schema: {
        type: 'list',
        nonEmpty: true,
        items: { type: 'union', string: str, number: { type: 'integer', min: 0 }, list: { type: 'list', items: { type: 'integer', min: 0 }, nonEmpty: true }, expected: '`any`, a CPU number, a list of CPU numbers or a CPU-list string' },
      },
    },
    nice: { schema: { type: 'list', items: { type: 'integer', min: -20, max: 19 }, nonEmpty: true } },
    threshold: { schema: { type: 'integer', min: 0 } },
    guests: { schema: { type: 'list', items: str, nonEmpty: true } },
    seed: { schema: { type: 'integer', min: 0 } },
  },
};

export const policySchema: Schema = {
  type: 'object',
  fields: {
    name,
    identify: {
      schema: {
        type: 'object',
        fields: {
          vms: {
            schema: {
              type: 'union',
              string: { type: 'string', enum: ['all'] },
              list: { type: 'list', items: str, nonEmpty: true },
              expected: '`all` or a list of guest names',
            },
          },
          top: {
            schema: {
              type: 'object',
              fields: {
                k: { schema: { type: 'integer', min: 1 }, required: true },
                by: { schema: { type: 'string', enum: ['io'] } },
                window: { schema: { type: 'duration' } },
              },
            },
          },
        },
      },
    },
    pin: {
      schema: {
        type: 'object',
        fields: {
          cpus: { schema: { type: 'list', items: { type: 'integer', min: 0 }, nonEmpty: true }, required: true },
          threads: {
            schema: {
              type: 'union',
              string: { type: 'string', enum: ['all', 'vcpu', 'iothread', 'emulator'] },
              list: { type: 'list', items: threadKind, nonEmpty: true },
              expected: '`all`, `vcpu`, `iothread`, `emulator` or a list of them',
            },
          },
        },
      },
    },
    nice: { schema: { type: 'integer', min: -20, max: 19 } },
    ionice: {
      schema: {
        type: 'object',
        fields: {
          class: {
            schema: {
              type: 'union',
              string: { type: 'string', enum: ['realtime', 'best-effort', 'idle'] },
              number: { type: 'integer', min: 1, max: 3 },
              expected: '`realtime`, `best-effort`, `idle` or 1..3',
            },
            required: true,
          },
          level: { schema: { type: 'integer', min: 0, max: 7 } },
        },
      },
    },
    chrt: {
      schema: {
        type: 'object',
        fields: {
          policy: { schema: { type: 'string', enum: ['other', 'fifo', 'rr', 'batch', 'idle'] }, required: true },
          priority: { schema: { type: 'integer', min: 0, max: 99 } },
        },
      },
    },
    // libvirt guests only: `virsh schedinfo --live` parameters (CPU bandwidth per vCPU, emulator, IOThread).
    cputune: {
      schema: {
        type: 'object',
        fields: Object.fromEntries(
          ['cpu_shares', 'vcpu_period', 'vcpu_quota', 'emulator_period', 'emulator_quota', 'iothread_period', 'iothread_quota', 'global_period', 'global_quota'].map((k) => [k, { schema: { type: 'integer', min: k.endsWith('_quota') ? -1 : 0 } }]),
        ),
      },
    },
    reapply: { schema: { type: 'duration', positive: true } },
    dynamic: { schema: dynamicSchema },
  },
};

export const batchConfigSchema: Schema = {
  type: 'object',
  fields: {
    name,
    description: { schema: { type: 'string' } },
    machines: {
      schema: {
        type: 'union',
        string: str,
        object: machineMapSchema,
        expected: '`testbed`, `slurm`, a path to a machine map file, or an inline machine map (nodes: [...])',
      },
    },
    monitors: { schema: { type: 'list', items: monitorSchema } },
    tests: { schema: { type: 'list', items: testSchema, nonEmpty: true }, required: true },
    policies: { schema: { type: 'list', items: policySchema } },
    order: {
      schema: {
        type: 'union',
        string: { type: 'string', enum: ['interleaved', 'sequential', 'random'] },
        object: { type: 'object', fields: { random: { schema: { type: 'integer', min: 0, max: 0xffffffff }, required: true } } },
        expected: '`interleaved`, `sequential`, `random` or {random: SEED}',
      },
    },
    strict: { schema: { type: 'boolean' } },
  },
};
