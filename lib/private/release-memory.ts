import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Above this much live heap, a finished environment's garbage is collected at once (see
 * {@link releaseMemory}); a small fleet's run never pays for a full collection.
 */
const LARGE_HEAP_BYTES = 128 * 2 ** 20;

let collect: (() => void) | undefined;

/**
 * Returns the memory of what the caller just dropped (a synthesized environment's construct
 * tree) to the heap before it builds the next one, when the heap is large.
 *
 * Why: V8 sizes the heap by how fast it grew, so after one large environment it lets the next
 * grow on top of the previous one's garbage (a 1,000-model fleet peaked at 550 MB with ~120 MB
 * live). One full collection between environments keeps the peak at about one environment.
 * `gc` is V8's own, exposed the way test runners expose it when node was not started with
 * --expose-gc.
 */
export function releaseMemory(): void {
  if (process.memoryUsage().heapUsed < LARGE_HEAP_BYTES) return;
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') {
      collect = exposed;
    } else {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    }
  }
  collect();
}
