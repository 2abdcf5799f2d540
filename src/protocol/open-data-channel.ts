import { parseJsonObject } from './acknowledge.js';

/** The first, TEXT, websocket frame a client sends (docs/protocol.md §3.2). */
export interface OpenDataChannelInput {
  requestId: string;
  tokenValue: string;
  clientId: string;
  clientVersion: string;
}

export function encodeOpenDataChannelInput(input: OpenDataChannelInput): string {
  return JSON.stringify({
    MessageSchemaVersion: '1.0',
    RequestId: input.requestId,
    TokenValue: input.tokenValue,
    ClientId: input.clientId,
    ClientVersion: input.clientVersion,
  });
}

/** For the fake service: undefined when the text is not the expected JSON object. */
export function decodeOpenDataChannelInput(text: string): Partial<OpenDataChannelInput> | undefined {
  const json = parseJsonObject(Buffer.from(text, 'utf8'));
  if (!json) return undefined;
  const field = (name: string) => (typeof json[name] === 'string' ? (json[name] as string) : undefined);
  return {
    requestId: field('RequestId'),
    tokenValue: field('TokenValue'),
    clientId: field('ClientId'),
    clientVersion: field('ClientVersion'),
  };
}
