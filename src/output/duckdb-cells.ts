/**
 * DuckDB result values as Cells, by column type, through node-api's own
 * converter mechanism (`createDuckDBValueConverter`), so every type DuckDB has
 * gets a defined printed form: nested types recurse, temporal types print
 * as DuckDB prints them (microseconds and time zones kept), wide integers and
 * decimals keep every digit.
 */
import {
  arrayFromArrayValue,
  arrayFromListValue,
  createDuckDBValueConverter,
  DuckDBDecimalValue,
  DuckDBMapType,
  DuckDBMapValue,
  DuckDBTypeId,
  DuckDBUnionValue,
  DuckDBUnionType,
  fromVariantValue,
  objectFromStructValue,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBValueConverter,
} from '@duckdb/node-api';
import { integerCell, keyText, ExactNumber, JsonText, type Cell } from './cell.js';

const printed: DuckDBValueConverter<Cell> = (value) => String(value);
const number: DuckDBValueConverter<Cell> = (value) => Number(value);
const integer: DuckDBValueConverter<Cell> = (value) => integerCell(BigInt(value as bigint | number));

const decimal: DuckDBValueConverter<Cell> = (value) => {
  const text = (value as DuckDBDecimalValue).toString();
  const n = Number(text);
  // A number when the double reads back as the same decimal (1.50 → 1.5 loses nothing), else every digit as text.
  return canonicalDecimal(String(n)) === canonicalDecimal(text) ? n : new ExactNumber(text);
};

/** Decimal text without the zeros that carry no value: `-0012.3400` → `-12.34`. */
function canonicalDecimal(text: string): string {
  let t = text.trim();
  const negative = t.startsWith('-');
  if (negative) t = t.slice(1);
  if (t.includes('.')) t = t.replace(/0+$/, '').replace(/\.$/, '');
  t = t.replace(/^0+(?=\d)/, '');
  return (negative && t !== '0' ? '-' : '') + t;
}

const varchar: DuckDBValueConverter<Cell> = (value, type) => (type.alias === 'JSON' ? new JsonText(String(value)) : String(value));

const map: DuckDBValueConverter<Cell> = (value, type, convert) => {
  const m = value as DuckDBMapValue;
  const t = type as DuckDBMapType;
  return Object.fromEntries(m.entries.map((e) => [keyText(convert(e.key, t.keyType, convert)), convert(e.value, t.valueType, convert)]));
};

const union: DuckDBValueConverter<Cell> = (value, type, convert) => {
  const u = value as DuckDBUnionValue;
  return convert(u.value, (type as DuckDBUnionType).memberTypeForTag(u.tag), convert);
};

export const cellConverter: DuckDBValueConverter<Cell> = createDuckDBValueConverter<Cell>({
  [DuckDBTypeId.INVALID]: printed,
  [DuckDBTypeId.BOOLEAN]: (value) => Boolean(value),
  [DuckDBTypeId.TINYINT]: number,
  [DuckDBTypeId.SMALLINT]: number,
  [DuckDBTypeId.INTEGER]: number,
  [DuckDBTypeId.BIGINT]: integer,
  [DuckDBTypeId.UTINYINT]: number,
  [DuckDBTypeId.USMALLINT]: number,
  [DuckDBTypeId.UINTEGER]: number,
  [DuckDBTypeId.UBIGINT]: integer,
  [DuckDBTypeId.FLOAT]: number,
  [DuckDBTypeId.DOUBLE]: number,
  [DuckDBTypeId.TIMESTAMP]: printed,
  [DuckDBTypeId.DATE]: printed,
  [DuckDBTypeId.TIME]: printed,
  [DuckDBTypeId.INTERVAL]: printed,
  [DuckDBTypeId.HUGEINT]: integer,
  [DuckDBTypeId.UHUGEINT]: integer,
  [DuckDBTypeId.VARCHAR]: varchar,
  [DuckDBTypeId.BLOB]: printed,
  [DuckDBTypeId.DECIMAL]: decimal,
  [DuckDBTypeId.TIMESTAMP_S]: printed,
  [DuckDBTypeId.TIMESTAMP_MS]: printed,
  [DuckDBTypeId.TIMESTAMP_NS]: printed,
  [DuckDBTypeId.ENUM]: printed,
  [DuckDBTypeId.LIST]: (value, type, convert) => arrayFromListValue(value, type, convert),
  [DuckDBTypeId.STRUCT]: (value, type, convert) => objectFromStructValue(value, type, convert),
  [DuckDBTypeId.MAP]: map,
  [DuckDBTypeId.ARRAY]: (value, type, convert) => arrayFromArrayValue(value, type, convert),
  [DuckDBTypeId.UUID]: printed,
  [DuckDBTypeId.UNION]: union,
  [DuckDBTypeId.BIT]: printed,
  [DuckDBTypeId.TIME_TZ]: printed,
  [DuckDBTypeId.TIMESTAMP_TZ]: printed,
  [DuckDBTypeId.ANY]: printed,
  [DuckDBTypeId.BIGNUM]: integer,
  [DuckDBTypeId.SQLNULL]: () => null,
  [DuckDBTypeId.STRING_LITERAL]: printed,
  [DuckDBTypeId.INTEGER_LITERAL]: printed,
  [DuckDBTypeId.TIME_NS]: printed,
  [DuckDBTypeId.GEOMETRY]: printed,
  [DuckDBTypeId.VARIANT]: (value, type, convert) => fromVariantValue(value, type, convert),
});

/** One value of a column of `type`. */
export function cellOf(value: DuckDBValue, type: DuckDBType): Cell {
  return value === null ? null : cellConverter(value, type, cellConverter);
}
