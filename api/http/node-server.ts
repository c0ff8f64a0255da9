import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Node's own header limit (request line included). Above api/http/transport.ts's limits, so the
 * app answers those with JSON; requests larger still get `clientError`'s JSON below.
 */
export const NODE_MAX_HEADER_SIZE = 256 * 1024;

/** `serverOptions` for @hono/node-server's `serve`. */
export const nodeServerOptions = { maxHeaderSize: NODE_MAX_HEADER_SIZE };

const STATUS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'the request line and headers are too large'],
};

/**
 * Answers requests Node's parser refuses before the app sees them (too large, malformed) with the
 * API's JSON error shape instead of Node's empty-bodied answer.
 *
 * @example
 * const server = serve({ fetch: app.fetch, serverOptions: nodeServerOptions });
 * answerClientErrorsWithJson(server as Server);
 */
export function answerClientErrorsWithJson(server: Server): void {
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (!socket.writable || (err.code === 'ECONNRESET' && !socket.readable)) {
      socket.destroy();
      return;
    }
    const [status, code, message] = STATUS[err.code ?? ''] ?? [
      400,
      'bad_request',
      'the request is not valid HTTP',
    ];
    const body = JSON.stringify({ error: code, message, retriable: false });
    const reason = status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
