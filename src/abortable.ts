/**
 * Cancellation as a dependency: a session's phases (credentials, StartSession, the websocket
 * upgrade, the handshake, a resume) each take an AbortSignal, so a signal from the user cuts any
 * of them short.
 */

/**
 * Settles like `promise`, or rejects with the abort reason as soon as `signal` fires (the work
 * itself is not cancelled). No signal: the promise itself.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
