import type { Socket } from 'node:net';

/**
 * Stops and starts reading a connected socket, so that what the peer sends meanwhile waits in the
 * kernel's socket buffer and is read later in one go: StatsStreams reads its streams in rounds.
 * Why: every wake-up of the event loop that runs JavaScript has a fixed cost, and the Engine sends
 * each container's sample at its own moment, so reading the streams as data comes costs one wake-up
 * per sample (docs/architecture.md §7 has the figures).
 *
 * `socket.pause()` cannot do this: a paused net.Socket goes on reading into its buffer up to its
 * high-water mark (16 KiB, about eight samples). So this stops the socket's libuv handle itself,
 * as Node's own net.Socket does under backpressure (`_handle.readStop()`, `_handle.reading`), and
 * keeps Node's Readable from starting it again while held (`_read` is the Readable's documented
 * hook; net.Socket's starts the handle). Only plain Unix-socket and TCP handles (`Pipe`, `TCP`)
 * are held; anything else (TLS, an SSH channel) gives undefined and is read as data comes.
 *
 * Contract: the consumer reads the socket's data as it is emitted (a flowing stream with a 'data'
 * listener), so no backpressure is set aside by start(). stop() and start() may be called any
 * number of times, in any order, also after the socket closed.
 */
export interface SocketHold {
  /** Reads nothing more until start(). */
  stop(): void;
  /** Reads again: what waited in the kernel comes on the next turn of the event loop. */
  start(): void;
}

/** The parts of Node's stream handle (node:net's `_handle`) this uses. */
interface StreamHandle {
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}

type Internals = Socket & { _handle?: StreamHandle | null; _read?: (size: number) => void };

const HOLDABLE = new Set(['Pipe', 'TCP']);

/** A hold on the socket's reading, or undefined when this socket cannot be held (see above). */
export function socketHold(socket: Socket | null | undefined): SocketHold | undefined {
  const s = socket as Internals | null | undefined;
  const handle = s?._handle;
  if (!s || !handle || !HOLDABLE.has(handle.constructor.name)) return undefined;
  if (typeof handle.readStart !== 'function' || typeof handle.readStop !== 'function' || typeof s._read !== 'function')
    return undefined;
  let held = false;
  const read = s._read;
  s._read = function (this: Internals, size: number) {
    if (!held) read.call(this, size);
  };
  return {
    stop() {
      if (held) return;
      held = true;
      const h = s._handle;
      if (h?.reading && !s.destroyed) {
        h.reading = false;
        h.readStop();
      }
    },
    start() {
      if (!held) return;
      held = false;
      const h = s._handle;
      if (!h || h.reading || s.destroyed) return;
      h.reading = true;
      const err = h.readStart();
      // As Node's net.Socket does when starting a read fails (the descriptor went bad).
      if (err < 0) s.destroy(new Error(`cannot read the connection (libuv error ${err})`));
    },
  };
}
