// Data-parallel training: the shared memory the training threads meet in. One Int32Array of control words
// (arrival counters, the command the main thread posts, an abort flag) and one Float32Array of slots, a slot per
// thread for each of two alternating rounds. `allSum` is the only collective: every thread writes its values
// into its slot, waits for the others, and adds the slots in thread order, so every thread gets the same floats.
// Two alternating rounds make one barrier per call enough: a thread can only write a round's slots again after
// every thread has arrived at the round in between, i.e. after every thread has read them.
import { availableParallelism } from "node:os";

/** Control words (Int32Array indices). */
const ARRIVED = 0; // + round parity: arrivals so far in rounds of that parity
const ABORT = 2; // non-zero once a thread failed or training stopped
const COMMAND = 3; // sequence number of the command the main thread posted last
/** Command fields after COMMAND (see Command). */
const FIELDS = 4;
/** The step's learning rate: a float64 in two control words after the command's fields. */
const LR = FIELDS + 4;
const CONTROL_WORDS = FIELDS + 6;
/** Bytes of the error text a failing thread leaves for the others. */
const ERROR_BYTES = 4096;

/** What the main thread asks the other threads to do next. */
export interface Command {
  kind: "step" | "verify" | "stop";
  epoch: number;
  step: number;
  /** Rows in the whole batch (each thread's share of them: `shares`). */
  total: number;
  /**
   * A step's learning rate, decided by the main thread alone (a plateau schedule follows val_loss, which only
   * it computes), so every thread applies the same rate; absent: the optimizer's own.
   */
  lr?: number;
}
const KINDS: Command["kind"][] = ["step", "verify", "stop"];

/** The shared buffers, as sent to a worker in its workerData. */
export interface ExchangeBuffers {
  ranks: number;
  /** Floats per slot: the largest `allSum` any thread makes. */
  capacity: number;
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  error: SharedArrayBuffer;
}

export function exchangeBuffers(ranks: number, capacity: number): ExchangeBuffers {
  return {
    ranks,
    capacity,
    control: new SharedArrayBuffer(CONTROL_WORDS * 4),
    slots: new SharedArrayBuffer(2 * ranks * capacity * 4),
    error: new SharedArrayBuffer(ERROR_BYTES),
  };
}

/** Thrown in a thread whose peer failed: carries the peer's message. */
export class PeerFailed extends Error {}

/**
 * How long a wait spins before it sleeps (Atomics.wait, from which a thread wakes late on this machine's vCPUs).
 * With nnc's SIMD kernels a step's halves arrive up to ~1-2 ms apart (the other thread idles ~0.9 ms per
 * convnet-bn step at batch 32 waiting for the next command): 20,000 polls (~0.2 ms) gave 3,900-4,700 samples/s
 * there on two threads, spinning ~20 ms 5,000-5,700, and the BN MLP at batch 512 55-62k against 65-66k; in
 * alternating runs, 0.2 ms against 10 ms: 4,600-5,100 against 5,000-5,300. A thread waiting longer (the other
 * evaluating at an epoch's end) sleeps after this. With more threads than cores a spinning thread would take a
 * core from one still computing: 0.2 ms then.
 */
const SPIN_MS = 10;
const OVERSUBSCRIBED_SPIN_MS = 0.2;

export class Exchange {
  private readonly control: Int32Array;
  private readonly slots: Float32Array;
  private calls = 0;
  private readonly spinMs: number;
  private readonly result: Float32Array;
  /** Converts the learning rate to and from its two control words, bit for bit. */
  private readonly lrBits = new Int32Array(2);
  private readonly lrValue = new Float64Array(this.lrBits.buffer);

  /**
   * `stallLimitMs`: how long `allSum` waits for a peer before it gives up and aborts (the main thread sets it;
   * the others need not: if the main thread dies, so does the process).
   */
  constructor(
    private readonly buffers: ExchangeBuffers,
    readonly rank: number,
    private readonly stallLimitMs?: number,
  ) {
    this.control = new Int32Array(buffers.control);
    this.spinMs = buffers.ranks <= availableParallelism() ? SPIN_MS : OVERSUBSCRIBED_SPIN_MS;
    this.slots = new Float32Array(buffers.slots);
    this.result = new Float32Array(buffers.capacity);
  }

  get ranks(): number {
    return this.buffers.ranks;
  }

  /** Floats per slot: the most one exchange can carry. */
  get capacity(): number {
    return this.buffers.capacity;
  }

  /**
   * The element-wise sum over threads of `values` (same length in every thread), added in thread order. The
   * result is a view of a buffer the next call reuses: copy what must outlive it. (A step makes up to a dozen
   * exchanges, the last of every gradient: fresh arrays of that size pile up as garbage between major GCs.)
   */
  allSum(values: Float32Array): Float32Array {
    const { ranks, capacity } = this.buffers;
    if (values.length > capacity)
      throw new Error(`internal: exchange of ${values.length} > ${capacity} floats`);
    const parity = this.calls & 1;
    const round = Math.floor(this.calls / 2) + 1; // not calls >> 1: that wraps at 2^31 calls
    this.calls++;
    const slot = (r: number) =>
      this.slots.subarray((parity * ranks + r) * capacity, (parity * ranks + r) * capacity + values.length);
    slot(this.rank).set(values);
    Atomics.add(this.control, ARRIVED + parity, 1);
    Atomics.notify(this.control, ARRIVED + parity);
    this.waitFor(ARRIVED + parity, ranks * round, 10, this.stallLimitMs);
    const out = this.result.subarray(0, values.length);
    out.set(slot(0));
    for (let r = 1; r < ranks; r++) {
      const s = slot(r);
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + s[i]!;
    }
    return out;
  }

  /** Every thread's `values` (same length everywhere), in thread order: for checks, not arithmetic. */
  allGather(values: Float32Array): Float32Array[] {
    // A sum would lose which thread held what: each thread writes its values at its own offset of a zero block.
    const block = new Float32Array(values.length * this.ranks);
    block.set(values, values.length * this.rank);
    const all = this.allSum(block).slice();
    return Array.from({ length: this.ranks }, (_, r) =>
      all.subarray(r * values.length, (r + 1) * values.length),
    );
  }

  /** Main thread: posts the next command (other threads wait in `nextCommand`). */
  post(command: Command): void {
    const c = this.control;
    c[FIELDS] = KINDS.indexOf(command.kind);
    c[FIELDS + 1] = command.epoch;
    c[FIELDS + 2] = command.step;
    c[FIELDS + 3] = command.total;
    // NaN stands for "no rate given".
    this.lrValue[0] = command.lr ?? NaN;
    c[LR] = this.lrBits[0]!;
    c[LR + 1] = this.lrBits[1]!;
    Atomics.add(c, COMMAND, 1);
    Atomics.notify(c, COMMAND);
  }

  /** Other threads: waits for the command after the `seen`-th; returns it. */
  nextCommand(seen: number): Command {
    this.waitFor(COMMAND, seen + 1, 1000);
    const c = this.control;
    this.lrBits[0] = c[LR]!;
    this.lrBits[1] = c[LR + 1]!;
    const lr = this.lrValue[0]!;
    return {
      kind: KINDS[c[FIELDS]!]!,
      epoch: c[FIELDS + 1]!,
      step: c[FIELDS + 2]!,
      total: c[FIELDS + 3]!,
      ...(Number.isNaN(lr) ? {} : { lr }),
    };
  }

  /** Stops every thread's waits; the first message is the one the others report. */
  abort(message: string): void {
    if (Atomics.compareExchange(this.control, ABORT, 0, 1) === 0) {
      const bytes = new TextEncoder().encode(message).subarray(0, ERROR_BYTES - 4);
      const view = new Uint8Array(this.buffers.error);
      new DataView(this.buffers.error).setUint32(0, bytes.length);
      view.set(bytes, 4);
      Atomics.store(this.control, ABORT, 2); // message written
    }
    for (const i of [ARRIVED, ARRIVED + 1, COMMAND]) Atomics.notify(this.control, i);
  }

  get aborted(): boolean {
    return Atomics.load(this.control, ABORT) !== 0;
  }

  private abortMessage(): string {
    // The aborting thread writes its message right after claiming the flag: give it a moment.
    for (let i = 0; i < 1000 && Atomics.load(this.control, ABORT) !== 2; i++)
      Atomics.wait(this.control, ABORT, 1, 1);
    if (Atomics.load(this.control, ABORT) !== 2) return "another training thread stopped";
    const length = new DataView(this.buffers.error).getUint32(0);
    return new TextDecoder().decode(new Uint8Array(this.buffers.error).slice(4, 4 + length));
  }

  /**
   * Blocks until control[index] reaches target (compared with int32 wraparound: the counters only grow), or
   * throws PeerFailed once any thread aborted. With a stall limit (the main thread's exchanges), also gives up
   * when a peer has not arrived for that long: a thread that dies outright (out of memory, a fatal error) runs no
   * code to abort, and the main thread, blocked here, would never see its exit event.
   */
  private waitFor(index: number, target: number, sleepMs: number, stallLimitMs?: number): void {
    const c = this.control;
    let since: number | undefined;
    let spinUntil: number | undefined = performance.now() + this.spinMs;
    for (let polls = 0; ; polls++) {
      const now = Atomics.load(c, index);
      if (((now - target) | 0) >= 0) return;
      if (Atomics.load(c, ABORT) !== 0) throw new PeerFailed(this.abortMessage());
      if (spinUntil !== undefined) {
        // The clock is read every 256 polls (~2.5 us), not every poll.
        if ((polls & 255) !== 0 || performance.now() < spinUntil) continue;
        spinUntil = undefined;
      }
      Atomics.wait(c, index, now, sleepMs);
      if (stallLimitMs === undefined) continue;
      since ??= performance.now();
      if (performance.now() - since > stallLimitMs) {
        const message = `a training thread stopped responding for ${Math.round(stallLimitMs / 1000)} s (out of memory or crashed?)`;
        this.abort(message);
        throw new PeerFailed(message);
      }
    }
  }
}
