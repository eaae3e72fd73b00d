// What telling a lost attempt from a requeued one costs the RabbitMQ and NATS adapters per
// delivery: the message key (`stream\nconsumer\nsequence`, as processTask builds it), the
// ledger's start at the delivery and end at the settlement (core's RedeliveryLedger), against
// building the key alone. Variants alternate in rounds (one warm-up round not recorded); prints
// medians and spreads. Run after `npx tsc --build`: node bench/redelivery-ledger.js
import { RedeliveryLedger } from '@tasklens/core/adapter';
import { median, printTable } from './support/report.js';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1_000_000);
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 9);
const STREAM = 'ORDERS';
const CONSUMER = 'billing';

let sink = 0;

function keyOnly(first) {
  const start = process.hrtime.bigint();
  for (let sequence = first; sequence < first + DELIVERIES; sequence++) {
    sink += `${STREAM}\n${CONSUMER}\n${sequence}`.length;
  }
  return Number(process.hrtime.bigint() - start) / DELIVERIES;
}

function withLedger(ledger, first) {
  const start = process.hrtime.bigint();
  for (let sequence = first; sequence < first + DELIVERIES; sequence++) {
    const key = `${STREAM}\n${CONSUMER}\n${sequence}`;
    if (!ledger.start(key)) sink += 1;
    ledger.end(key, false);
  }
  return Number(process.hrtime.bigint() - start) / DELIVERIES;
}

export async function main() {
  const ledger = new RedeliveryLedger();
  const samples = { 'message key': [], 'key + ledger start and end': [] };
  for (let round = 0; round <= REPETITIONS; round++) {
    const first = round * DELIVERIES;
    const key = keyOnly(first);
    const both = withLedger(ledger, first);
    if (round === 0) continue;
    samples['message key'].push(key);
    samples['key + ledger start and end'].push(both);
  }
  const results = Object.entries(samples).map(([name, values]) => ({ name, samples: values }));
  printTable(`Redelivery ledger, ${DELIVERIES} deliveries × ${REPETITIONS}`, 'ns/msg', results, {
    baseline: 'message key',
    higherIsBetter: false,
  });
  const added = median(samples['key + ledger start and end']) - median(samples['message key']);
  console.log(`the ledger adds ${added.toFixed(0)} ns per delivery`);
  return sink;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
