// The part of autocannon's programmatic API the dev-proxy bench uses (the package ships no types).
declare module "autocannon" {
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    headers?: Record<string, string>;
  }
  interface Histogram {
    average: number;
    total: number;
    p50: number;
    p99: number;
  }
  interface Result {
    requests: Histogram;
    latency: Histogram;
    non2xx: number;
    errors: number;
    /** Seconds the run took. */
    duration: number;
  }
  export default function autocannon(options: Options): Promise<Result>;
}
