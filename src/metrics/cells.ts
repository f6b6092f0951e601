/**
 * Counters for hot paths: a plain number per label value, found once and then
 * bumped by reference (`cell.n++`), no string building or allocation per
 * increment. prom-client reads them only when /metrics is scraped.
 */
import { Counter, type Registry } from "prom-client";

export interface Cell {
  n: number;
}

export interface CellCounter {
  /** The cell for one label value (created on first use: callers keep the label set bounded). */
  cell(label: string): Cell;
}

export function cellCounter(registry: Registry, name: string, help: string, labelName: string): CellCounter {
  const cells = new Map<string, Cell>();
  new Counter({
    name,
    help,
    labelNames: [labelName],
    registers: [registry],
    collect() {
      this.reset();
      for (const [label, c] of cells) this.inc({ [labelName]: label }, c.n);
    },
  });
  return {
    cell(label) {
      let c = cells.get(label);
      if (!c) cells.set(label, (c = { n: 0 }));
      return c;
    },
  };
}
