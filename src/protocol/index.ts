/** The wire format of the SSM data channel: pure functions over Buffers, no I/O. */
export * from './constants.js';
export * from './protocol-error.js';
export * from './message-id.js';
export * from './frame.js';
export * from './acknowledge.js';
export * from './flag.js';
export * from './handshake.js';
export * from './channel-closed.js';
export * from './open-data-channel.js';
