/**
 * Wire constants of the SSM data channel (docs/protocol.md §4).
 * One file, so a reader can see the whole vocabulary at once.
 */

/** Offset of the PayloadLength field, which writers put in the first 4 bytes (docs/protocol.md §4.1). */
export const HEADER_LENGTH = 116;
/** Payload starts after HeaderLength + the 4-byte PayloadLength field (docs/protocol.md §4.1, pitfall 1). */
export const PAYLOAD_OFFSET = HEADER_LENGTH + 4;
export const SCHEMA_VERSION = 1;
export const MESSAGE_TYPE_FIELD_LENGTH = 32;

/** Field offsets inside a frame (docs/protocol.md §4.1). */
export const Offset = {
  headerLength: 0,
  messageType: 4,
  schemaVersion: 36,
  createdDate: 40,
  sequenceNumber: 48,
  flags: 56,
  messageId: 64,
  payloadDigest: 80,
  payloadType: 112,
  payloadLength: 116,
} as const;

/** MessageType strings (docs/protocol.md §4.3). */
export const MessageType = {
  inputStreamData: 'input_stream_data',
  outputStreamData: 'output_stream_data',
  acknowledge: 'acknowledge',
  channelClosed: 'channel_closed',
  startPublication: 'start_publication',
  pausePublication: 'pause_publication',
  agentSessionState: 'agent_session_state',
} as const;

/** PayloadType values (docs/protocol.md §4.4). */
export const PayloadType = {
  none: 0,
  output: 1,
  error: 2,
  size: 3,
  parameter: 4,
  handshakeRequest: 5,
  handshakeResponse: 6,
  handshakeComplete: 7,
  encChallengeRequest: 8,
  encChallengeResponse: 9,
  flag: 10,
  stdErr: 11,
  exitCode: 12,
} as const;

/** Flag payload values carried by PayloadType.flag (docs/protocol.md §4.4). */
export const FlagValue = {
  disconnectToPort: 1,
  terminateSession: 2,
  connectToPortError: 3,
} as const;

/**
 * Header Flags: bit0 SYN, bit1 FIN (docs/protocol.md §4.4). Acknowledgements and channel_closed carry both (3),
 * which is not an "ack" bit of its own (docs/protocol.md §5, §11.1). Nobody reads them on receipt.
 */
export const HeaderFlag = {
  none: 0,
  syn: 1,
  fin: 2,
  synFin: 3,
} as const;

/** Largest stream payload we put in one message (docs/protocol.md §10.2, pitfall 25). */
export const STREAM_CHUNK_SIZE = 1024;

/** ActionStatus of a ProcessedClientAction (docs/protocol.md §8.3). */
export const ActionStatus = {
  success: 1,
  failed: 2,
  unsupported: 3,
} as const;

export const SessionTypeName = {
  standardStream: 'Standard_Stream',
  interactiveCommands: 'InteractiveCommands',
  nonInteractiveCommands: 'NonInteractiveCommands',
  port: 'Port',
} as const;
