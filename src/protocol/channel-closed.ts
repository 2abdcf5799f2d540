import { parseJsonObject } from './acknowledge.js';

/** The parts of a channel_closed payload a client uses (docs/protocol.md §11.1). */
export interface ChannelClosed {
  sessionId: string;
  output: string;
}

/** Like the plugin, a malformed payload still closes the channel, just without a reason. */
export function decodeChannelClosed(payload: Buffer): ChannelClosed {
  const json = parseJsonObject(payload) ?? {};
  return {
    sessionId: typeof json.SessionId === 'string' ? json.SessionId : '',
    output: typeof json.Output === 'string' ? json.Output : '',
  };
}

export function encodeChannelClosed(fields: {
  messageId: string;
  createdDate: string;
  destinationId: string;
  sessionId: string;
  output: string;
}): Buffer {
  return Buffer.from(
    JSON.stringify({
      MessageId: fields.messageId,
      CreatedDate: fields.createdDate,
      DestinationId: fields.destinationId,
      SessionId: fields.sessionId,
      MessageType: 'channel_closed',
      SchemaVersion: 1,
      Output: fields.output,
    }),
    'utf8',
  );
}
