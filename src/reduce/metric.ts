/** One data point on its way to a sink: a sanitised carbon path, a finite value, Unix seconds. */
export interface Metric {
  readonly path: string;
  readonly value: number;
  readonly time: number;
}
