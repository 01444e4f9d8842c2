import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Metrics } from '../../domain/ports.js';

/** Values read when Prometheus scrapes (queue depth, open streams...). */
export type GaugeSources = Record<string, { help: string; read: () => number }>;

/**
 * Prometheus metrics of one process (`GET /metrics`): inference runs by model and provider, batch
 * sizes, queue wait, step outcomes, events published, plus the process's own (event-loop delay,
 * memory, handles) from prom-client's default collectors. Every process has its own registry.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly runs: Counter<'model' | 'provider'>;
  private readonly runSeconds: Histogram<'model' | 'provider'>;
  private readonly batchSize: Histogram<'model'>;
  private readonly wait: Histogram<'model'>;
  private readonly steps: Counter<'outcome'>;
  private readonly events: Counter;

  constructor(labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry, prefix: 'strata_process_', eventLoopMonitoringPrecision: 10 });
    const registers = [this.registry];
    this.runs = new Counter({
      name: 'strata_inference_runs_total',
      help: 'Inference calls (batches) by model and execution provider.',
      labelNames: ['model', 'provider'],
      registers,
    });
    this.runSeconds = new Histogram({
      name: 'strata_inference_seconds',
      help: 'Time in the ONNX session per inference call.',
      labelNames: ['model', 'provider'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'strata_batch_size',
      help: 'Steps per inference call.',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    });
    this.wait = new Histogram({
      name: 'strata_queue_wait_seconds',
      help: "Time a step waited in the scheduler's queue before dispatch.",
      labelNames: ['model'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.steps = new Counter({
      name: 'strata_steps_total',
      help: 'Render steps by outcome: painted, cached (from the render index or shared), dropped (stale).',
      labelNames: ['outcome'],
      registers,
    });
    this.events = new Counter({
      name: 'strata_events_published_total',
      help: 'Scene events appended to the log and published.',
      registers,
    });
  }

  /** Gauges read at scrape time. */
  gauges(sources: GaugeSources): void {
    for (const [name, { help, read }] of Object.entries(sources)) {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    }
  }

  inference(model: string, provider: string, batchSize: number, runMs: number): void {
    this.runs.inc({ model, provider });
    this.runSeconds.observe({ model, provider }, runMs / 1000);
    this.batchSize.observe({ model }, batchSize);
  }

  queueWait(model: string, ms: number): void {
    this.wait.observe({ model }, ms / 1000);
  }

  step(outcome: 'painted' | 'cached' | 'dropped'): void {
    this.steps.inc({ outcome });
  }

  eventsPublished(count: number): void {
    this.events.inc(count);
  }

  /** The text exposition format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
