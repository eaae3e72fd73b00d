import { SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { ExportFailureReport } from './export-failure-report.js';
import { OTLP_JSON } from './otlp-http-post.js';
import type { OtlpHttpPoster, OtlpTarget } from './otlp-http-post.js';
import type { Spool } from './spool.js';
import { InFlight } from './in-flight.js';

/**
 * Exports span batches as OTLP/HTTP JSON, serialized by the SDK's own OTLP serializer. A batch
 * the collector does not take now (refused, timed out, 429/502/503/504) goes to the spool, which
 * sends it later; while the spool holds older batches, new ones queue behind them there, without
 * a request of their own.
 * Without a spool (switched off) such a batch fails as with the SDK's exporter.
 */
export class OtlpSpanExporter implements SpanExporter {
  private readonly inFlight = new InFlight();

  constructor(
    private readonly target: OtlpTarget,
    private readonly poster: OtlpHttpPoster,
    private readonly spool: Spool | undefined,
    private readonly failures: ExportFailureReport,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inFlight.track(this.send(spans)).then(resultCallback, (error: unknown) =>
      resultCallback({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      }),
    );
  }

  forceFlush(): Promise<void> {
    return this.inFlight.settled();
  }

  shutdown(): Promise<void> {
    return this.inFlight.settled();
  }

  private async send(spans: ReadableSpan[]): Promise<ExportResult> {
    if (this.spool !== undefined && (await this.spool.hasBacklog())) {
      return this.kept(await this.keep(this.spool, spans));
    }
    const body = JsonTraceSerializer.serializeRequest(spans);
    if (body === undefined) {
      return { code: ExportResultCode.FAILED, error: new Error('spans could not be serialized') };
    }
    const result = await this.poster.post(this.target, body, OTLP_JSON);
    if (result.status === 'success') {
      this.spool?.collectorAnswered();
      return { code: ExportResultCode.SUCCESS };
    }
    if (result.status === 'retryable' && this.spool !== undefined) {
      this.spool.collectorFailed(result.retryAfterMs);
      const kept = await this.keep(this.spool, spans);
      this.failures.failed(
        'spans',
        this.target.url,
        result.error,
        kept ? this.spool.location : undefined,
      );
      return this.kept(kept);
    }
    this.failures.failed('spans', this.target.url, result.error);
    return { code: ExportResultCode.FAILED, error: result.error };
  }

  /**
   * Spools the spans of failed tasks apart from the others, so that a full spool evicts
   * successes first and a failed task's span last.
   */
  private async keep(spool: Spool, spans: ReadableSpan[]): Promise<boolean> {
    const failed = spans.filter((span) => span.status.code === SpanStatusCode.ERROR);
    const others =
      failed.length === 0
        ? spans
        : spans.filter((span) => span.status.code !== SpanStatusCode.ERROR);
    let kept = true;
    for (const [kind, group] of [
      ['traces-error', failed],
      ['traces', others],
    ] as const) {
      if (group.length === 0) continue;
      const body = JsonTraceSerializer.serializeRequest(group);
      kept = body !== undefined && (await spool.keep({ kind, items: group.length, body })) && kept;
    }
    return kept;
  }

  private kept(kept: boolean): ExportResult {
    return kept
      ? { code: ExportResultCode.SUCCESS }
      : { code: ExportResultCode.FAILED, error: new Error('the spool could not keep the spans') };
  }
}
