export { loadBatchConfig, parseBatchConfigText, resolveBatchConfig, type LoadOptions, type TextOptions } from './load.js';
export { parseDuration } from './duration.js';
export { fillRuntimePlaceholders, runtimePlaceholdersIn, renderTemplate, parseTemplate, BUILTIN_PLACEHOLDERS, RUNTIME_PLACEHOLDERS } from './template.js';
export { testbedMachinesFile, LOCAL_MACHINES } from './machines.js';
export * from './types.js';
