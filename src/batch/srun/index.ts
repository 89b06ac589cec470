export { SrunExecutor, type SrunExecutorOptions } from './srun-executor.js';
export { srunArgv, stepScript, parseMarker, MARKER_PREFIX } from './step-command.js';
