export { runPreflight, preflightFailures, preflightFatal, type PreflightReport } from './run.js';
export { judgeNode, LOAD_PER_CORE_LIMIT, type CheckResult, type CheckContext } from './checks.js';
export { nodeFactsScript, parseNodeFacts, parseCpuList, type NodeFacts } from './facts.js';
