/**
 * ExPerT-TS, the library: what the CLI, the kernel and notebooks use.
 *
 *   import { openStore, loadBatchConfig, expandPlan, runBatch, defaultHooks } from 'expert-ts';
 *
 * One namespace per part as well (`store`, `batch`, `ssh`, `testbed`, `tune`,
 * `mine`, `viz`, `stats`) for everything else each part offers.
 */
export { UserError, ConfigError, isUserError, type SourcePosition } from './errors.js';
export { quote, commandLine } from './shell.js';

// Store
export { openStore, DEFAULT_STORE_PATH, type DuckDBStore, type OpenStoreOptions } from './store/store.js';
export type { ExpertStore, LineWriter, BatchStatus, QueryResult } from './store/types.js';

// Batch: config → plan → run
export { loadBatchConfig, parseBatchConfigText, resolveBatchConfig, loadMachineMap, parseDuration } from './batch/config/index.js';
export type { BatchConfig, ResolvedBatchConfig, MachineMap, NodeSpec, VmSpec, TestSpec, MonitorSpec, PolicySpec, Plan, PlannedRun, PlannedProcess, Target } from './batch/config/types.js';
export { expandPlan, planRows } from './batch/plan/index.js';
export { runBatch, defaultHooks, type BatchEvent, type BatchOutcome, type RunBatchOptions } from './batch/runner/index.js';
export { createExecutorPool } from './batch/executor-pool.js';
export { LocalExecutor } from './batch/local-executor.js';
export type { Executor, RemoteProcess, OutputLine, ExitInfo } from './batch/executor.js';
export type { ExecutorPool, RunHook, RunContext } from './batch/hooks.js';
export { SshExecutor } from './batch/ssh/index.js';

// Testbed, Tune, Mine, Viz
export { testbedUp, testbedDown, testbedStatus } from './testbed/index.js';
export { discoverNode, createTuneHook, applyPolicy, startDynamicTuning, runSearch } from './tune/index.js';
export { ensureParsed, defaultRegistry, userParser, runSummary, toArquero, toDanfo, exportParquet, runValues, compare, type CompareOptions, type CompareRow, type Comparison } from './mine/index.js';
export { toMimeBundle, figureFromSpec, parseChartSpec, scatterFigure, distributionFigure, timeSeriesFigure, heatmapFigure } from './viz/index.js';

// Notebooks: `expert notebook run` / `publish` from TypeScript (a notebook that runs another one)
export { runNotebook, publishNotebook, type RunNotebookOptions, type NotebookRunResult } from '../kernel-extensions/notebook/run.js';

export * as store from './store/store.js';
export * as batch from './batch/config/index.js';
export * as ssh from './batch/ssh/index.js';
export * as testbed from './testbed/index.js';
export * as tune from './tune/index.js';
export * as mine from './mine/index.js';
export * as viz from './viz/index.js';
export * as stats from './stats/index.js';
