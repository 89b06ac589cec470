/**
 * Tune's public API (the CLI, the kernel's %tune magics and notebooks use it).
 */
export type { ThreadKind, ThreadState, ThreadInfo, GuestInfo, CpuTopology, NodeDiscovery } from './types.js';
export { discoverNode } from './discover.js';
export { parseDiscovery, type ParsedDiscovery } from './discover-parse.js';
export { planPolicy, validatePolicy, isNoOpPolicy, type NodePlan } from './planner.js';
export { applyThreadPlans, type ActionResult } from './apply.js';
export { restoreEntries, type RestoreResult } from './restore.js';
export { Journal, defaultJournalPath, type JournalEntry } from './journal.js';
export { applyPolicy, reapplyPolicy, discoverAll, guestPlaceholders, type TuneNode, type PolicyApplication } from './session.js';
export { createTuneHook, nodeTargets, runNodeTargets, parseWindow, type TuneHookOptions } from './hook.js';
export { startDynamicTuning, type DynamicPolicy, type DynamicAction, type Snapshot, type GuestSnapshot, type DynamicTuning } from './dynamic.js';
export { loadPolicyFile, parsePolicyText } from './policy-file.js';
export { runSearch, objectiveValues, type SearchResult, type Trial, type CandidateResult } from './search/run.js';
export { loadSearchSpec, parseSearchSpec, runSearchCommand, rankingRows, dryRun } from './search/command.js';
/** A placement's policy parts applied before each run of it (a batch that runs a found placement beside other policies). */
export { placementHook } from './search/placement-hook.js';
export { candidatesOf, checkSpec, type SearchSpec, type GenerateSpec, type Objective, type StrategyName } from './search/spec.js';
export { searchCandidates, type SearchCandidate, type CandidateSet } from './search/candidates.js';
export * as space from './space/index.js';
export * as optimize from './optimize/index.js';
export { summarize, formatSummary, type Summary } from './search/stats.js';
