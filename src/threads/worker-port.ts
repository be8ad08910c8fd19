/**
 * One message port over the three worker APIs: Web Workers (browsers, Deno: a global `Worker`)
 * and Node's worker_threads. The library spawns and talks to workers only through this file.
 */

/** A message channel to a worker (parent side) or to the parent (worker side). */
export interface Port {
  post(message: unknown, transfer?: Transferable[]): void;
  /** Registers the message handler (one per port). */
  onMessage(handler: (message: unknown) => void): void;
  /** Registers the handler of an error the worker did not catch (parent side). */
  onError(handler: (error: Error) => void): void;
  terminate(): Promise<void>;
}

interface NodeWorker {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(event: 'message', handler: (message: unknown) => void): void;
  on(event: 'error', handler: (error: Error) => void): void;
  terminate(): Promise<number>;
  unref(): void;
}

interface NodeWorkerThreads {
  Worker: new (url: URL) => NodeWorker;
  parentPort: NodeWorker | null;
}

/** Node's worker_threads, imported by a name in a variable so browser bundles never pull it in. */
async function nodeWorkerThreads(): Promise<NodeWorkerThreads> {
  const name = 'node:worker_threads';
  return (await import(/* @vite-ignore */ name)) as NodeWorkerThreads;
}


/** Node (not Deno, which has Web Workers and a Node compatibility `process` too). */
const isNode = () => (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined && !('Deno' in globalThis);

/** The parent side of a started Web Worker. */
export function webWorkerPort(worker: Worker): Port {
  return {
    post: (message, transfer = []) => worker.postMessage(message, transfer),
    onMessage: (handler) => { worker.onmessage = (e: MessageEvent) => handler(e.data); },
    onError: (handler) => { worker.onerror = (e: ErrorEvent) => { e.preventDefault(); handler(new Error(e.message)); }; },
    terminate: async () => worker.terminate(),
  };
}

/** Starts the module worker at `url`. */
export async function spawnWorker(url: URL): Promise<Port> {
  if (!isNode()) return webWorkerPort(new Worker(url, { type: 'module' }));
  const { Worker: NodeWorkerClass } = await nodeWorkerThreads();
  const worker = new NodeWorkerClass(url);
  // An idle pool must not keep the process alive.
  worker.unref();
  return {
    post: (message, transfer = []) => worker.postMessage(message, transfer),
    onMessage: (handler) => worker.on('message', handler),
    onError: (handler) => worker.on('error', handler),
    terminate: async () => { await worker.terminate(); },
  };
}

/** The worker side: the port to the thread that spawned this one. */
export async function parentPort(): Promise<Port> {
  if (!isNode()) {
    const scope = globalThis as unknown as { postMessage(m: unknown, t: Transferable[]): void; onmessage: unknown; close(): void };
    return {
      post: (message, transfer = []) => scope.postMessage(message, transfer),
      onMessage: (handler) => { scope.onmessage = (e: MessageEvent) => handler(e.data); },
      onError: () => {},
      terminate: async () => scope.close(),
    };
  }
  const port = (await nodeWorkerThreads()).parentPort;
  if (!port) throw new Error('dyvedeep: backend-worker.js must run in a worker');
  return {
    post: (message, transfer = []) => port.postMessage(message, transfer),
    onMessage: (handler) => port.on('message', handler),
    onError: () => {},
    terminate: async () => {},
  };
}
