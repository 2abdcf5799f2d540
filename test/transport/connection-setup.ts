import assert from 'node:assert/strict';
import type { FrameSink } from '../../src/channel/reliable-stream.js';
import { createLogger } from '../../src/log.js';
import { systemScheduler } from '../../src/scheduler.js';
import { SESSION_TIMEOUTS } from '../../src/session/session-timeouts.js';
import type { DataChannelConnectionOptions } from '../../src/transport/data-channel-connection.js';

/**
 * What a DataChannelConnection needs in the transport tests: test keys, a silent log, the real
 * timeouts, and a receiver that hands the stream's sink to `onAttach`. Any failure fails the test
 * unless `onFailure` says otherwise.
 */
export function testConnectionOptions(
  streamUrl: string,
  options: { onAttach?: (sink: FrameSink) => void; onFailure?: (error: Error) => void } = {},
): DataChannelConnectionOptions {
  return {
    access: { streamUrl, tokenValue: 'token-value-for-test' },
    receiver: { receive: () => undefined, attach: (sink) => options.onAttach?.(sink), detach: () => undefined },
    region: 'us-east-1',
    clientId: 'client-1',
    clientVersion: '1.2.764.0',
    credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
    resume: async () => undefined,
    scheduler: systemScheduler,
    log: createLogger({ verbosity: 0, write: () => undefined }),
    timeouts: SESSION_TIMEOUTS,
    events: { onFailure: options.onFailure ?? ((error) => assert.fail(error.message)) },
  };
}
