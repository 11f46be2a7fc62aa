// What prom-client's registry reads from a histogram collector (getForPromString / get), built from plain
// counts: our own histograms (the relay latency, requests by route) count in typed arrays on the hot path and
// hand prom-client these values only when /metrics is scraped. The lines are the ones prom-client's Histogram
// writes for the same observations: a bucket per bound (`le` inclusive, cumulative), `+Inf`, `_sum`, `_count`.

export interface ValuePair {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
  exemplar?: null;
}

/**
 * Appends one series' lines to `out`. `counts` is per bucket, not cumulative, with one more slot than `bounds`
 * (the values above every bound); `shared` labels the whole series (e.g. its route).
 */
export function pushHistogramSeries(
  out: ValuePair[],
  name: string,
  bounds: ArrayLike<number>,
  s: { counts: ArrayLike<number>; sum: number; count: number },
  shared: Record<string, string>,
): void {
  const bucketName = `${name}_bucket`;
  let acc = 0;
  for (let i = 0; i < bounds.length; i++) {
    acc += s.counts[i]!;
    out.push({
      labels: { le: bounds[i]! },
      sharedLabels: shared,
      value: acc,
      metricName: bucketName,
      exemplar: null,
    });
  }
  out.push(
    { labels: { le: "+Inf" }, sharedLabels: shared, value: s.count, metricName: bucketName, exemplar: null },
    { labels: {}, sharedLabels: shared, value: s.sum, metricName: `${name}_sum` },
    { labels: {}, sharedLabels: shared, value: s.count, metricName: `${name}_count` },
  );
}

/** The JSON form (registry.getMetricsAsJSON): each value's labels and shared labels merged, as prom-client's get(). */
export function promJson<D extends { values: ValuePair[] }>(data: D) {
  return {
    ...data,
    values: data.values.map(({ sharedLabels, labels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    })),
  };
}
