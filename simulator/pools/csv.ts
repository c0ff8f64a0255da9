/** One parsed CSV record with the 1-based line it starts on (quoted fields may span lines). */
export interface CsvRecord {
  readonly line: number;
  readonly fields: string[];
}

/** A structural CSV error (an unterminated quote, text after a closing quote). */
export class CsvSyntaxError extends Error {
  readonly code = 'CSV_SYNTAX';
  readonly retriable = false;
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

/**
 * RFC 4180 records: comma-separated, double-quoted fields may hold commas, quotes (doubled) and
 * line breaks; CRLF or LF. Blank lines are skipped. Pure; throws `CsvSyntaxError` with the line.
 *
 * @example
 * parseCsv('id,text\n1,"a, b"\n') // [{ line: 1, fields: ['id', 'text'] }, { line: 2, fields: ['1', 'a, b'] }]
 */
export function parseCsv(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let line = 1;
  let i = 0;
  const n = src.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let atFieldStart = true;
    let endOfRecord = false;
    while (i < n && !endOfRecord) {
      const ch = src[i]!;
      if (quoted) {
        if (ch === '"') {
          if (src[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i += 1;
            const next = src[i];
            if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r')
              throw new CsvSyntaxError(line, `unexpected ${JSON.stringify(next)} after a closing quote`);
          }
        } else {
          if (ch === '\n') line += 1;
          field += ch;
          i += 1;
        }
        continue;
      }
      if (ch === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
        i += 1;
      } else if (ch === ',') {
        fields.push(field);
        field = '';
        atFieldStart = true;
        i += 1;
      } else if (ch === '\n' || ch === '\r') {
        i += ch === '\r' && src[i + 1] === '\n' ? 2 : 1;
        line += 1;
        endOfRecord = true;
      } else {
        field += ch;
        atFieldStart = false;
        i += 1;
      }
    }
    if (quoted) throw new CsvSyntaxError(startLine, 'a quoted field is never closed');
    fields.push(field);
    if (fields.length === 1 && fields[0] === '') continue;
    out.push({ line: startLine, fields });
  }
  return out;
}

/** Quotes a field only when it has to (comma, quote, line break, or edge whitespace). */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Rows to CSV text with LF line ends and a trailing newline. */
export function formatCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
