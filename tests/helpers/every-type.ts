/** One query returning a value of every DuckDB type (and a row of NULLs), for the output tests. */
export const EVERY_TYPE_SQL = `SELECT * FROM (
  SELECT
    INTERVAL 90 MINUTE + INTERVAL 3 DAY AS interval,
    MAP {'a': 1, 'b': 2} AS map,
    {'x': 1, 'y': [2, 3], 'z': {'w': 'deep'}} AS struct,
    [1, 2, NULL] AS list,
    [1, 2, 3]::INTEGER[3] AS array,
    union_value(k := 7)::UNION(k INTEGER, s VARCHAR) AS "union",
    '\\xAA\\x00 bytes'::BLOB AS blob,
    12345678901234567890.12::DECIMAL(38, 2) AS bigdec,
    3.0997777500000003 AS dec_long,
    1.50::DECIMAL(5, 2) AS dec_short,
    170141183460469231731687303715884105727::HUGEINT AS hugeint,
    340282366920938463463374607431768211455::UHUGEINT AS uhugeint,
    9007199254740993::BIGINT AS big,
    42::TINYINT AS tiny,
    'f81d4fae-7dec-11d0-a765-00a0c91e6bf6'::UUID AS uuid,
    DATE '2024-02-29' AS date,
    TIME '12:34:56.789012' AS time,
    TIMETZ '12:00:00+02' AS timetz,
    TIMESTAMP '2024-01-01 00:00:00.123456' AS ts_us,
    TIMESTAMPTZ '2024-01-01 00:00:00.654321+00' AS tstz,
    'b'::ENUM('a', 'b') AS enum,
    '101'::BIT AS bit,
    '{"k": [1, {"n": null}]}'::JSON AS json,
    true AS bool,
    'nan'::DOUBLE AS nan,
    'inf'::DOUBLE AS inf,
    -1.5e-300::DOUBLE AS tiny_double,
    'line one
line "two", with comma' AS text
  UNION ALL
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
)`;
