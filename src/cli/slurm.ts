/**
 * `expert slurm submit <batch.yaml> -N <nodes> [--partition P] [--time T] [--store F] [--wait]`:
 * the batch as an sbatch job; `expert slurm machines`: the machine map of
 * the current allocation (what `machines: slurm` resolves to).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { collect } from './options.js';
import { DEFAULT_STORE_PATH, openStore } from '../store/store.js';
import { UserError } from '../errors.js';
import { jobEnd, jobScript, sbatchArgs, submitAndWait, submitBatch } from '../slurm/submit.js';
import { batchMachines, checkSubmission, otherMachinesError } from '../slurm/submit-check.js';
import { loadMachineMap } from '../batch/config/machines.js';
import { printData } from './format.js';

interface SubmitFlags {
  nodes: string;
  partition?: string;
  time?: string;
  store: string;
  set: string[];
  output?: string;
  jobName?: string;
  wait?: boolean;
  allowOtherMachines?: boolean;
}

export function registerSlurm(program: Command): void {
  const slurm = program.command('slurm').description('run batches on a Slurm cluster: submit one as a job, show the machine map of the current allocation');

  slurm
    .command('submit')
    .description('submit the batch as an sbatch job that runs `expert run` in its allocation (use machines: slurm in the batch)')
    .argument('<batch.yaml>', 'the batch config')
    .requiredOption('-N, --nodes <n>', 'number of nodes for the job')
    .option('--partition <name>', 'Slurm partition')
    .option('--time <limit>', 'time limit (sbatch --time, e.g. 30:00)')
    .option('--store <file>', 'the DuckDB store the job writes', DEFAULT_STORE_PATH)
    .option('--set <key=value>', 'override a config value (repeatable)', collect, [])
    .option('--output <pattern>', "the job's output file (sbatch --output)", 'expert-slurm-%j.out')
    .option('--job-name <name>', 'the job name', 'expert')
    .option('--wait', 'wait for the job to end; exit with its exit code')
    .option('--allow-other-machines', "submit even when the batch's machines: are not the job's nodes (e.g. machines: testbed over SSH)")
    .action(async (file: string, flags: SubmitFlags) => {
      const nodes = Number(flags.nodes);
      if (!/^\d+$/.test(flags.nodes) || nodes < 1) throw new UserError(`-N ${flags.nodes}: expected a number of nodes, 1 or more`);
      const text = await readFile(file, 'utf8').catch((e: Error) => { throw new UserError(`${file}: cannot read the batch config: ${e.message}`); });
      // Where the batch will run, before anything queues: a job whose nodes idle while SSH measures others is a mistake.
      const machines = batchMachines(text, file, flags.set, process.cwd(), process.env);
      if (machines.place === 'elsewhere') {
        if (!flags.allowOtherMachines) throw otherMachinesError(machines);
        process.stderr.write(`warning: ${machines.said} runs over SSH outside the job's allocation (--allow-other-machines): of the job's ${nodes} node${nodes === 1 ? '' : 's'}, the first only runs \`expert run\`\n`);
      } else if (machines.place === 'this-node' && nodes > 1) {
        process.stderr.write(`warning: ${machines.said}: every process runs on the job's first node, ${nodes === 2 ? 'the other one sits' : `the other ${nodes - 1} sit`} idle (machines: slurm uses them all)\n`);
      }
      const expert = [process.execPath, ...process.execArgv, process.argv[1]!];
      const options = { batchFile: file, store: flags.store, nodes, partition: flags.partition, time: flags.time, set: flags.set, output: flags.output, jobName: flags.jobName, cwd: process.cwd(), expert };
      await checkSubmission({ partition: flags.partition, nodes, sbatchArgs: sbatchArgs(options, false), script: jobScript(options) });
      if (!flags.wait) {
        const { jobId } = await submitBatch(options);
        process.stdout.write(`job ${jobId}\n`);
        process.stderr.write(`submitted: expert run ${file} in a ${nodes}-node allocation, into ${flags.store}; follow it with: squeue -j ${jobId}\n`);
        return;
      }
      // The job id as soon as sbatch has it (the wait may be long, and the id is what squeue and scancel take).
      const { jobId, exitCode } = await submitAndWait(options, (id) => process.stdout.write(`job ${id}\n`));
      if (exitCode === 0) return;
      // sbatch --wait exits with the job's exit code: the batch's (1 some failed, 130 interrupted).
      const end = await jobEnd(jobId);
      const how = end.state ? `ended ${end.state}${end.exitCode ? ` (exit code ${end.exitCode})` : ''}` : `ended with exit code ${exitCode}`;
      const output = end.output ?? resolve(flags.output ?? 'expert-slurm-%j.out').replaceAll('%j', jobId);
      throw new UserError(`job ${jobId} ${how}; ${await batchOfJob(flags.store, jobId)}; the job's output: ${output}`, { exitCode: exitCode > 0 ? exitCode : 1 });
    });

  slurm
    .command('machines')
    .description('print the machine map of the current allocation (the nodes `machines: slurm` gives)')
    .option('--format <format>', 'table|csv|json')
    .action(async (flags: { format?: string }) => {
      const map = await loadMachineMap('slurm', { as: '`expert slurm machines`' });
      await printData(['node', 'host', 'launcher'], map.nodes.map((n) => [n.name, n.host, n.launcher ?? 'ssh']), flags);
    });
}

/** What the store says of the batch a job ran (provenance.slurm.job_id), for the message of a job that did not succeed. */
async function batchOfJob(storePath: string, jobId: string): Promise<string> {
  if (!existsSync(storePath)) return `it wrote no batch (${storePath} does not exist)`;
  let store;
  try {
    store = await openStore(storePath, { readOnly: true });
  } catch (e) {
    return `its batch is not known (${storePath}: ${(e as Error).message})`;
  }
  try {
    const batch = (await store.query("SELECT batch_id, status FROM batch WHERE json_extract_string(provenance, '$.slurm.job_id') = $1 ORDER BY batch_id DESC LIMIT 1", [jobId])).rows[0];
    if (!batch) return `it wrote no batch into ${storePath}`;
    const [batchId, status] = batch as [number, string];
    const counts = (await store.query("SELECT count(*) FILTER (WHERE status = 'exited' AND exit_code = 0), count(*) FROM process WHERE batch_id = $1 AND role = 'workload'", [batchId])).rows[0]!;
    return `its batch ${batchId} in ${storePath}: ${status}, ${Number(counts[0])} of ${Number(counts[1])} workloads exited 0`;
  } finally {
    await store.close();
  }
}
