import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';

/**
 * The worker: writes each file it is sent, counts it as done in the shared counters and wakes
 * the main thread; a failure is reported once, on the error port, and stops further writes.
 */
const WORKER_SOURCE = `
const fs = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const counters = new Int32Array(workerData.counters);
const errors = workerData.errors;
let failed = false;
parentPort.on('message', (batch) => {
  for (let i = 0; i < batch.length; i += 2) {
    if (failed) break;
    try {
      fs.writeFileSync(batch[i], batch[i + 1]);
    } catch (error) {
      failed = true;
      errors.postMessage(error);
    }
  }
  Atomics.add(counters, 0, batch.length / 2);
  Atomics.notify(counters, 0);
});
`;

/** Files sent to the worker and not yet written, at most: the memory of what is in flight stays small. */
const MAX_IN_FLIGHT = 256;
/** Files per message: one message per file would cost about as much as writing it. */
const BATCH_FILES = 32;

/**
 * Writes files on a worker thread while the caller goes on synthesizing, so that file creation,
 * about a sixth of a large synth and the part no code can make cheaper, runs on the machine's
 * other core. The caller stays synchronous: it blocks (Atomics.wait) only when too many files are
 * in flight, and in {@link BackgroundWriter.finish}, which returns once every file is on disk
 * and throws the first write error.
 */
export class BackgroundWriter {
  private readonly worker: Worker;
  private readonly counters = new Int32Array(new SharedArrayBuffer(4));
  private readonly errors: MessagePort;
  private sent = 0;
  private batch: string[] = [];
  private failure: unknown;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.errors = port1;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { counters: this.counters.buffer, errors: port2 }, transferList: [port2] });
    // A pending worker never keeps the process alive; finish() ends it.
    this.worker.unref();
  }

  /** Queues `data` for `file`, whose folder must exist. */
  write(file: string, data: string): void {
    this.batch.push(file, data);
    if (this.batch.length >= 2 * BATCH_FILES) this.flush();
  }

  /** Waits until every queued file is written, ends the worker, and throws the first write error. */
  finish(): void {
    try {
      this.flush();
      this.waitUntil(this.sent);
      this.checkFailure();
    } finally {
      this.close();
    }
  }

  /** Ends the worker without waiting (after a failure elsewhere; the caller discards what it wrote). */
  close(): void {
    void this.worker.terminate();
    this.errors.close();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const files = this.batch.length / 2;
    this.waitUntil(this.sent + files - MAX_IN_FLIGHT);
    this.worker.postMessage(this.batch);
    this.sent += files;
    this.batch = [];
  }

  private waitUntil(done: number): void {
    for (let written = Atomics.load(this.counters, 0); written < done; written = Atomics.load(this.counters, 0)) {
      // After a write error the rest is not worth waiting for.
      this.checkFailure();
      Atomics.wait(this.counters, 0, written, 100);
    }
  }

  private checkFailure(): void {
    this.failure ??= receiveMessageOnPort(this.errors)?.message;
    if (this.failure !== undefined) throw this.failure;
  }
}
