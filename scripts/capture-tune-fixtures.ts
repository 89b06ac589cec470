/**
 * Captures Tune's discovery fixtures from REAL paused QEMU guests on this
 * machine: the discovery script's output under the system sh and under
 * busybox sh, plus what Node read from /proc at the same moment (the truth
 * the parser's tests compare against). Run: `npx tsx scripts/capture-tune-fixtures.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { DISCOVERY_SCRIPT } from '../src/tune/discover-script.js';
import { startPausedGuest, threadComms, type PausedGuest } from '../tests/tune/guests.js';

const out = 'tests/fixtures/tune';
mkdirSync(out, { recursive: true });
const guests: PausedGuest[] = [];
try {
  guests.push(await startPausedGuest('fixture-vm1', { smp: 2, iothreads: 2 }));
  guests.push(await startPausedGuest(`fixture "odd" $(name) ,x`, { smp: 1, iothreads: 1 }));
  guests.push(await startPausedGuest('fixture-plain', { smp: 1, iothreads: 0, nameArg: 'fixture-plain' }));
  const read = () => guests.map((g) => ({ name: g.name, pid: g.pid, threads: [...threadComms(g.pid)].map(([tid, comm]) => ({ tid, comm })) }));
  // QEMU may still be creating threads: keep capturing until /proc reads the same before and after.
  let truth = read();
  for (let attempt = 0; ; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = read();
    writeFileSync(`${out}/discovery.sh.out`, execFileSync('sh', ['-s'], { input: DISCOVERY_SCRIPT }));
    writeFileSync(`${out}/discovery.busybox.out`, execFileSync('busybox', ['sh', '-s'], { input: DISCOVERY_SCRIPT }));
    truth = read();
    if (JSON.stringify(before) === JSON.stringify(truth)) break;
    if (attempt > 20) throw new Error('the guests\' threads did not settle');
  }
  writeFileSync(`${out}/truth.json`, JSON.stringify({ nproc: Number(execFileSync('nproc').toString()), guests: truth }, null, 1) + '\n');
  console.log(`captured discovery of ${guests.length} guests into ${out}`);
} finally {
  for (const g of guests) await g.stop();
}
