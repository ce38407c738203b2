/** Yields to the event loop with a macrotask, so pause/stop messages get through (no rAF in workers). */
export const yieldToEvents = (): Promise<void> =>
  new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
