/** Every magic of the expert kernel. */
import { batchMagic } from './batch.js';
import { cliVerbMagic } from './cli-verbs.js';
import { lsmagic } from './lsmagic.js';
import { mineMagic } from './mine.js';
import { plotMagic } from './plot.js';
import { provenanceMagic } from './provenance.js';
import { MagicRegistry } from './registry.js';
import { sqlMagic } from './sql.js';
import { storeMagic } from './store.js';
import { tuneMagic } from './tune.js';

export function allMagics(): MagicRegistry {
  const registry = new MagicRegistry();
  registry.add(
    lsmagic(registry),
    storeMagic,
    batchMagic,
    sqlMagic,
    mineMagic,
    plotMagic,
    provenanceMagic,
    tuneMagic,
    cliVerbMagic('testbed', 'bring the local testbed (QEMU guests) up or down, or show it', '%testbed up [--vms N] [--nodes N] [--accel auto|kvm|tcg]\n%testbed down\n%testbed status [--threads]'),
  );
  return registry;
}
