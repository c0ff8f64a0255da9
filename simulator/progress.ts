/** A one-line progress bar on a TTY; plain periodic lines otherwise (CI logs). */
export function progressBar(label: string, out: NodeJS.WriteStream = process.stderr) {
  let lastLine = -1;
  return (done: number, total: number) => {
    const frac = total > 0 ? done / total : 1;
    if (out.isTTY) {
      const width = 30;
      const full = Math.round(frac * width);
      out.write(`\r  ${label.padEnd(13)} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${done}/${total}`);
      if (done >= total) out.write('\n');
    } else {
      const step = Math.floor(frac * 4);
      if (step !== lastLine || done >= total) {
        lastLine = step;
        out.write(`  ${label} ${done}/${total} sessions\n`);
      }
    }
  };
}
