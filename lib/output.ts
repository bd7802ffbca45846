/** Where a command writes: lines for stdout and stderr (tests pass a recorder). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}
