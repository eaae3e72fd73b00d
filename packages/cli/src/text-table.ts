/**
 * Rows under a header as aligned columns, two spaces apart, each line ending in '\n'; `noteOf`
 * may add an indented line under a row (a message and a link).
 */
export function textTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  noteOf: (index: number) => string | undefined = () => undefined,
): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  const body = rows.flatMap((row, index) => {
    const note = noteOf(index);
    return note === undefined ? [line(row)] : [line(row), `    ${note}`];
  });
  return `${[line(header), ...body].join('\n')}\n`;
}
