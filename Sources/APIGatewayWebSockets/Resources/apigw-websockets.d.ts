// Type declarations of apigw-websockets.js, the browser client of swift-apigateway-websockets.
// Kept true by `tsc --noEmit --strict` over Tests/JavaScript/typed-example.ts, and by a node test
// that checks every member declared here against the module itself.

/** Where the connection is: `connecting` on the first try, `reconnecting` after a cut. */
export type SocketStatus = "idle" | "connecting" | "connected" | "reconnecting" | "closed";

/** A stream position: the last offset seen in a stream, and the stream's epoch. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/** Any message the backend sends: a JSON object. Channel messages carry their stream position. */
export interface GatewayMessage {
  [key: string]: unknown;
  type?: string;
  /** The request id an answer carries (`r1`, `r2`, …). */
  id?: string;
  channel?: string;
  user?: string;
  offset?: number;
  epoch?: string;
}

/** A request's answer: the handler's reply, under the request's id. */
export interface RequestAnswer extends GatewayMessage {
  /** Set on a join's answer when the backend's streams are on: whether the replay lost nothing. */
  recovered?: boolean;
}

/** The answer of `history(channel)`: the last messages of the channel, oldest first. */
export interface HistoryAnswer extends GatewayMessage {
  type: "history";
  channel: string;
  offset: number;
  epoch: string;
  complete: boolean;
  messages: GatewayMessage[];
}

/** The answer of `presence(channel)`. */
export interface PresenceAnswer extends GatewayMessage {
  channel: string;
}

export interface GatewaySocketOptions {
  /** The WebSocket URL (`wss://{api}.execute-api.{region}.amazonaws.com/{stage}`). */
  url: string;
  /** The token endpoint (POST, same-origin cookies); none: the cookie alone logs the connection in. */
  tokenURL?: string | null;
  /** Joined on every connect. */
  channels?: string[];
  /** Between heartbeats (240). */
  heartbeatSeconds?: number;
  /** The connection is renewed this long after it opened (7080: ahead of API Gateway's 2-hour cut). */
  maxAgeSeconds?: number;
  /** How long a request waits for its answer (10,000). */
  requestTimeoutMs?: number;
  /** The first reconnect's delay, doubled each time with jitter, up to `backoffMaxMs`. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** The heartbeat's action; `null`: no heartbeat. */
  heartbeatAction?: string | null;
  /** Refused handshakes in a row before giving up for good; `null` (the default): never. */
  maxFailedOpens?: number | null;
  /** How long an early message waits for the ones before it before they are fetched (300). */
  gapWaitMs?: number;
}

/** The stream an event is about: a channel's, or a user's. */
export type StreamName = { channel: string; user?: undefined } | { user: string; channel?: undefined };

/** Every message was replayed after a reconnect. */
export type RecoveredDetail = StreamName & { offset: number; epoch: string | null };

/** Some messages could not be had: the history no longer reaches back, or the epoch changed. */
export type DiscontinuityDetail = StreamName & { offset: number; epoch: string | null; lastSeen: StreamPosition | null };

/** When the next reconnect starts. */
export interface RetryDetail {
  attempt: number;
  delayMs: number;
  /** Milliseconds since the epoch. */
  at: number;
  reason: string;
}

export interface ErrorDetail {
  /** The HTTP status the backend answered; 0: no answer. */
  status: number;
  reason: string;
}

/** The events of a GatewaySocket, by name, with their `detail`. */
export interface GatewaySocketEventMap {
  message: CustomEvent<GatewayMessage>;
  status: CustomEvent<SocketStatus>;
  error: CustomEvent<ErrorDetail>;
  retry: CustomEvent<RetryDetail>;
  presence: CustomEvent<GatewayMessage>;
  removed: CustomEvent<GatewayMessage>;
  recovered: CustomEvent<RecoveredDetail>;
  discontinuity: CustomEvent<DiscontinuityDetail>;
}

/** A refused or unanswered request: `status` is the HTTP status the backend answered (0: no answer). */
export declare class RequestError extends Error {
  constructor(status: number, reason: string);
  readonly name: "RequestError";
  status: number;
  reason: string;
}

/** One WebSocket to the gateway, kept open until `close()`. */
export declare class GatewaySocket extends EventTarget {
  constructor(options: GatewaySocketOptions);
  /** The settings the page rendered (`<script type="application/json" id="apigw-settings">`), with `overrides`. */
  static fromPage(overrides?: Partial<GatewaySocketOptions>, doc?: Document): GatewaySocket;

  readonly options: Required<Omit<GatewaySocketOptions, "tokenURL">> & Pick<GatewaySocketOptions, "tokenURL">;
  /** The channels joined on every connect. */
  readonly channels: Set<string>;
  readonly status: SocketStatus;
  /** Reconnects tried since the last connect. */
  readonly attempt: number;
  /** When the next reconnect starts (ms since the epoch), while one is waiting. */
  readonly retryAt: number | null;

  /** Opens the connection; resolves once connected. */
  connect(): Promise<GatewaySocket>;
  /** Closes for good: no reconnect; an attempt under way is cancelled. */
  close(): void;
  /** Sends `message` without waiting for an answer; throws a RequestError when not connected. */
  send(message: object): void;
  /** Sends `message` with a fresh id; resolves with the answer, rejects with a RequestError. */
  request<Answer extends RequestAnswer = RequestAnswer>(message: object, timeoutMs?: number): Promise<Answer>;
  /** Joins `channel` now and on every reconnect (then from the last position seen). */
  join(channel: string): Promise<RequestAnswer>;
  /** The last `limit` messages of `channel` (before offset `before`). */
  history(channel: string, options?: { limit?: number; before?: number }): Promise<HistoryAnswer>;
  /** The stream position last seen of `channel`. */
  position(channel: string): StreamPosition | undefined;
  /** Leaves `channel`, and stops re-joining it. */
  leave(channel: string): Promise<RequestAnswer>;
  /** Who is in `channel`. */
  presence(channel: string): Promise<PresenceAnswer>;

  addEventListener<K extends keyof GatewaySocketEventMap>(
    type: K,
    listener: (event: GatewaySocketEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof GatewaySocketEventMap>(
    type: K,
    listener: (event: GatewaySocketEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
