/**
 * QueueSampler scrapes the operator's /metrics every 5 s during the cold start: work-queue depth,
 * certificates issued, and the longest event-loop delay since the previous scrape. A scrape that
 * gets no answer within 10 s is recorded as such: the operator's event loop did not turn.
 */
import type { BenchOperator } from "./operator-process";
import { sumOf } from "./prom";

/** QueueSample is one scrape; times in seconds since the operator's spawn. */
export interface QueueSample {
  t: number;
  pods: number;
  meshidentities: number;
  issued: number;
  /** lagMax is meshid_process_nodejs_eventloop_lag_max_seconds (reset at every scrape). */
  lagMax: number;
  /** lagP99 is meshid_process_nodejs_eventloop_lag_p99_seconds (reset at every scrape). */
  lagP99: number;
  /** scrapeSeconds is how long /metrics took to answer (or to time out). */
  scrapeSeconds: number;
  /** unanswered is set when /metrics did not answer within 10 s. */
  unanswered?: boolean;
}

/** HealthProbe asks /healthz every second while the operator serves, as a liveness probe would. */
export class HealthProbe {
  tried = 0;
  answered = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly op: BenchOperator,
    private readonly serving: () => boolean,
  ) {}

  /** begin probes every `ms` with a 1 s timeout. */
  begin(ms = 1000): this {
    this.timer = setInterval(() => {
      if (!this.serving()) return;
      this.tried++;
      void this.op.healthy(1000).then((ok) => {
        if (ok) this.answered++;
      });
    }, ms);
    return this;
  }

  /** end stops probing. */
  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** QueueSampler collects QueueSamples until stopped. */
export class QueueSampler {
  private readonly collected: QueueSample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly op: BenchOperator,
    /** since converts a performance.now() instant to seconds since the operator's spawn. */
    private readonly since: (at: number) => number,
    /** serving tells whether the operator already answered /readyz (earlier failures are start-up). */
    private readonly serving: () => boolean,
  ) {}

  /** begin scrapes every `ms`. */
  begin(ms = 5000): this {
    this.timer = setInterval(() => this.scrape(), ms);
    return this;
  }

  /** end stops scraping; answers still in flight are dropped. */
  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** samples are the scrapes so far, in the order they were asked. */
  get samples(): QueueSample[] {
    return [...this.collected].sort((a, b) => a.t - b.t);
  }

  /** latest is the last answered scrape. */
  get latest(): QueueSample | undefined {
    return this.collected.filter((q) => !q.unanswered).at(-1);
  }

  private scrape(): void {
    const asked = performance.now();
    const running = this.timer;
    this.op
      .scrape(1)
      .then((m) => {
        if (this.timer !== running) return;
        this.collected.push({
          t: this.since(asked),
          pods: sumOf(m, "meshid_queue_depth", { queue: "pods" }),
          meshidentities: sumOf(m, "meshid_queue_depth", { queue: "meshidentities" }),
          issued: sumOf(m, "meshid_certificates_issued_total"),
          lagMax: sumOf(m, "meshid_process_nodejs_eventloop_lag_max_seconds"),
          lagP99: sumOf(m, "meshid_process_nodejs_eventloop_lag_p99_seconds"),
          scrapeSeconds: (performance.now() - asked) / 1000,
        });
      })
      .catch(() => {
        if (this.timer !== running || !this.serving()) return;
        this.collected.push({
          t: this.since(asked),
          pods: NaN,
          meshidentities: NaN,
          issued: NaN,
          lagMax: NaN,
          lagP99: NaN,
          scrapeSeconds: (performance.now() - asked) / 1000,
          unanswered: true,
        });
      });
  }
}
