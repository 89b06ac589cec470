/** The store every verb uses without `--store` (its own module, so verbs name it without loading DuckDB). */
export const DEFAULT_STORE_PATH = './expert.duckdb';
