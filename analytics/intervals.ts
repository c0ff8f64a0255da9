/**
 * Confidence intervals and percentiles, pure: the dashboard, the evaluation report and the
 * offline evaluation all call these, so the same data gives the same number everywhere.
 */

/** A point estimate with a two-sided interval at `confidence`. */
export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  readonly confidence: number;
}

/** Standard normal CDF Φ(x) (Abramowitz–Stegun 7.1.26 on erf, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/**
 * Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
 *
 * @example
 * normalQuantile(0.975); // 1.959964
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return Number.NEGATIVE_INFINITY;
    if (p === 1) return Number.POSITIVE_INFINITY;
    return Number.NaN;
  }
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lowTail = 0.02425;
  if (p < lowTail) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - lowTail) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** z such that a two-sided normal interval ±z covers `confidence` (1.96 for 0.95). */
export function zFor(confidence: number): number {
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  return normalQuantile(1 - (1 - confidence) / 2);
}

/**
 * Wilson score interval of a proportion: unlike the Wald interval it stays inside [0, 1] and
 * keeps its coverage near 0 and 1 and for small n, which is where a young A/B variant lives.
 * With n = 0 it is [0, 1] around NaN (nothing is known).
 *
 * @example
 * wilsonInterval(81, 263); // { estimate: 0.308, low: 0.255, high: 0.366, confidence: 0.95 }
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval {
  if (!(n >= 0) || !(successes >= 0) || successes > n) {
    throw new RangeError(`need 0 <= successes <= n, got ${successes} of ${n}`);
  }
  if (n === 0) return { estimate: Number.NaN, low: 0, high: 1, confidence };
  const z = zFor(confidence);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), confidence };
}

/** Sample moments of a list of numbers (unbiased variance; 0 for fewer than 2 values). */
export function moments(values: readonly number[]): { n: number; mean: number; variance: number } {
  const n = values.length;
  if (n === 0) return { n: 0, mean: Number.NaN, variance: Number.NaN };
  // Welford: stable for large token counts.
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    const d = x - mean;
    mean += d / (i + 1);
    m2 += d * (x - mean);
  }
  return { n, mean, variance: n > 1 ? m2 / (n - 1) : 0 };
}

/**
 * Normal (CLT) interval of a mean from its moments: mean ± z·sd/√n. No bootstrap, so it is cheap
 * enough for a live panel; fine for the sample sizes a dashboard shows (tens of values and up).
 *
 * @example
 * meanIntervalFromMoments(100, 240, 60 * 60); // 240 ± 11.76
 */
export function meanIntervalFromMoments(
  n: number,
  mean: number,
  variance: number,
  confidence = 0.95,
): Interval {
  if (n === 0) return { estimate: Number.NaN, low: Number.NaN, high: Number.NaN, confidence };
  const half = zFor(confidence) * Math.sqrt(Math.max(0, variance) / n);
  return { estimate: mean, low: mean - half, high: mean + half, confidence };
}

/**
 * Normal interval of the mean of `values`.
 *
 * @example
 * meanInterval([180, 240, 300]); // { estimate: 240, low: 172.1, high: 307.9, confidence: 0.95 }
 */
export function meanInterval(values: readonly number[], confidence = 0.95): Interval {
  const m = moments(values);
  return meanIntervalFromMoments(m.n, m.mean, m.variance, confidence);
}

/**
 * The q-quantile (0 ≤ q ≤ 1) with linear interpolation between order statistics (R's type 7,
 * numpy's default); NaN for no values. Sorts a copy.
 *
 * @example
 * percentile([10, 20, 30, 40], 0.95); // 38.5
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((x, y) => x - y);
  const h = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

/** p50, p95 and p99 of a list of latencies (NaN when empty). */
export function latencyPercentiles(values: readonly number[]): { p50: number; p95: number; p99: number } {
  const s = [...values].sort((x, y) => x - y);
  const at = (q: number) => percentile(s, q);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}
