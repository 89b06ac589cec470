/**
 * The shape of a search spec's `space:` (checked at file:line:column like the
 * rest of a spec). What a schema cannot say (names that exist, symmetric
 * guests with equal choices) is checked in dimensions.ts.
 */
import type { Schema } from '../../batch/config/schema.js';

const text: Schema = { type: 'string', nonEmpty: true };
const names: Schema = { type: 'list', items: text, nonEmpty: true };

const cpuChoice: Schema = {
  type: 'union',
  string: text,
  number: { type: 'integer', min: 0 },
  list: { type: 'list', items: { type: 'integer', min: 0 }, nonEmpty: true },
  expected: '`any` (not pinned), a CPU number, a list of CPU numbers or a CPU-list string like "0-3,6"',
};

const ioniceClass: Schema = { type: 'string', enum: ['realtime', 'best-effort', 'idle'] };
const ioniceChoice: Schema = {
  type: 'union',
  string: { type: 'string', enum: ['none', 'realtime', 'best-effort', 'idle'] },
  object: { type: 'object', fields: { class: { schema: ioniceClass, required: true }, level: { schema: { type: 'integer', min: 0, max: 7 } } } },
  expected: '`none`, `realtime`, `best-effort`, `idle` or {class, level}',
};

const knobFields = {
  cpus: { schema: { type: 'list', items: cpuChoice, nonEmpty: true } },
  nice: { schema: { type: 'list', items: { type: 'integer', min: -20, max: 19 }, nonEmpty: true } },
  ionice: { schema: { type: 'list', items: ioniceChoice, nonEmpty: true } },
} satisfies Record<string, { schema: Schema }>;

// Per thread kind only the CPU set: Tune's nice and ionice act on every thread of a guest.
const kindKnobs: Schema = { type: 'object', fields: { cpus: knobFields.cpus } };

const guestChoices: Schema = {
  type: 'object',
  fields: { ...knobFields, vcpu: { schema: kindKnobs }, iothread: { schema: kindKnobs }, emulator: { schema: kindKnobs } },
};

const constraint: Schema = {
  type: 'object',
  fields: {
    max_guests_per_cpu: { schema: { type: 'integer', min: 1 } },
    apart: { schema: names },
  },
};

export const spaceSchema: Schema = {
  type: 'object',
  fields: {
    guests: { schema: { type: 'map', values: guestChoices }, required: true },
    constraints: { schema: { type: 'list', items: constraint } },
    symmetric: { schema: { type: 'list', items: names } },
    cpus: { schema: { type: 'union', string: text, list: { type: 'list', items: { type: 'integer', min: 0 }, nonEmpty: true }, expected: 'a list of CPU numbers or a CPU-list string' } },
  },
};
