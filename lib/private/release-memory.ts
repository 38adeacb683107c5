import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Above this much heap in use, a finished environment's garbage is collected at once (see
 * {@link releaseMemory}); a small fleet's run never pays for a full collection.
 */
const LARGE_HEAP_BYTES = 128 * 2 ** 20;
/**
 * The heap a synthesis keeps below while it writes (see {@link capHeap}): one environment of
 * 1,000 models holds about 120 MB of live objects.
 */
const HEAP_CEILING_BYTES = 200 * 2 ** 20;

let collect: (() => void) | undefined;

/**
 * Returns the memory of what the caller just dropped (a synthesized environment's construct
 * tree) to the heap before it builds the next one, when the heap is large.
 *
 * Why: V8 sizes the heap by how fast it grew, so after one large environment it lets the next
 * grow on top of the previous one's garbage (a 1,000-model fleet peaked at 550 MB with ~120 MB
 * live). One full collection between environments keeps the peak at about one environment.
 */
export function releaseMemory(): void {
  if (process.memoryUsage().heapUsed >= LARGE_HEAP_BYTES) fullCollection();
}

/**
 * Collects garbage once the heap in use passes {@link HEAP_CEILING_BYTES}; cheap to call often.
 *
 * Why: within one large environment V8 may also let garbage pile up to twice the live objects
 * (250 MB at 1,000 models) before it collects, which alone would take the process near 400 MB.
 * Below the ceiling this does nothing, so small fleets never pay for it.
 */
export function capHeap(): void {
  if (v8.getHeapStatistics().used_heap_size >= HEAP_CEILING_BYTES) fullCollection();
}

/** V8's own `gc`, exposed the way test runners expose it when node was not started with --expose-gc. */
function fullCollection(): void {
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
