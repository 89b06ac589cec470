/**
 * `{name}` in a %%sql cell binds the notebook variable `name` as a query
 * parameter ($1, $2, ...): values never become SQL text. Braces inside
 * quoted strings, quoted identifiers and comments are left alone. Pure.
 */
export function bindVariables(sql: string): { sql: string; names: string[] } {
  const names: string[] = [];
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const end = skipQuotedOrComment(sql, i);
    if (end > i) {
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    const match = c === '{' ? /^\{([A-Za-z_$][\w$]*)\}/.exec(sql.slice(i)) : null;
    if (match) {
      let index = names.indexOf(match[1]!);
      if (index < 0) index = names.push(match[1]!) - 1;
      out += `$${index + 1}`;
      i += match[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return { sql: out, names };
}

function skipQuotedOrComment(sql: string, at: number): number {
  const c = sql[at];
  if (c === "'" || c === '"') {
    let i = at + 1;
    while (i < sql.length) {
      if (sql[i] === c) {
        if (sql[i + 1] === c) i += 2; // doubled quote escapes itself
        else return i + 1;
      } else i++;
    }
    return sql.length;
  }
  if (c === '-' && sql[at + 1] === '-') {
    const nl = sql.indexOf('\n', at);
    return nl < 0 ? sql.length : nl;
  }
  if (c === '/' && sql[at + 1] === '*') {
    const close = sql.indexOf('*/', at + 2);
    return close < 0 ? sql.length : close + 2;
  }
  return at;
}
