export { loadBatchConfig, parseBatchConfigText, resolveBatchConfig, type LoadOptions, type TextOptions } from './load.js';
export { parseDuration } from './duration.js';
export { fillRuntimePlaceholders, runtimePlaceholdersIn, renderTemplate, parseTemplate, BUILTIN_PLACEHOLDERS, RUNTIME_PLACEHOLDERS } from './template.js';
export { testbedMachinesFile, loadMachineMap, LOCAL_MACHINES } from './machines.js';
export { parseYamlAgainst, loadYamlAgainst } from './yaml-file.js';
export { batchConfigSchema, machineMapSchema, policySchema, testSchema, monitorSchema, type Schema, type Field } from './schema.js';
export { ConfigSource, pathText, type ConfigPath } from './source.js';
export * from './types.js';
