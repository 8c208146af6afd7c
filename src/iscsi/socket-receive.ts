// Lets a connection choose the memory every socket read lands in (Node's net.Socket `onread`
// option), for sockets a net.Server accepted, which cannot be given that option.
//
// Why: without it Node allocates a fresh 64 KiB ArrayBuffer for every read. Under a stream of
// large writes that is 1 GB/s of short-lived external memory, and V8 answers it with a full
// mark-compact of the whole heap every few tens of milliseconds (a third of the process's CPU
// in the 1 MiB write bench). With `onread` the framer reuses one receive buffer, and can even
// point a read straight at the write task's buffer (framer.ts).
//
// How: the server accepts with `pauseOnConnect` (no byte read yet), and the accepted socket's
// libuv handle is moved into a new net.Socket built with `onread`. `_handle` is not a documented
// property, so anything unexpected falls back to the socket as it came ('data' events).
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';

export interface ReceiveTarget {
  /** Where the next read may put its bytes; called before every read. */
  readBuffer(): Buffer;
  /** `length` bytes (more than 0) arrived in the buffer readBuffer() returned last. */
  received(length: number): void;
}

/** The options net.Socket accepts besides the documented ones (lib/net.js, Node 12+). */
interface AdoptOptions extends SocketConstructorOpts {
  readonly handle: object;
  readonly onread: OnReadOpts;
}

/** An accepted socket as it really is: `_handle` is the libuv TCP handle. */
interface HandleOwner {
  _handle?: object | null;
}

/**
 * Returns a socket on the same connection that reads through `target`, or null when `socket`
 * cannot be adopted (the caller then uses `socket` and its 'data' events). `socket` must not
 * have read anything yet (a server with pauseOnConnect: true). When adopted, `socket` is left
 * without its connection and destroyed, so its server no longer counts it: the caller owns the
 * new socket's lifetime.
 */
export function adoptSocket(socket: Socket, target: ReceiveTarget): Socket | null {
  const shell = socket as Socket & HandleOwner;
  const handle = shell._handle;
  if (handle === null || handle === undefined || !socket.isPaused() || socket.bytesRead > 0) return null;
  const options: AdoptOptions = {
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer: () => target.readBuffer(),
      callback: (length) => {
        target.received(length);
        // Backpressure pauses the socket through pause(), not through this return value.
        return true;
      },
    },
  };
  const adopted = new Socket(options);
  // The shell must not close the handle it no longer owns: without one, destroy() only emits
  // 'close' (and lets the server count the connection as gone).
  shell._handle = null;
  socket.destroy();
  return adopted;
}
