// apigw-websockets.js: the browser side of swift-apigateway-websockets, one dependency-free ES module.
//
//   import { GatewaySocket } from "/apigw-websockets.js";
//   const socket = GatewaySocket.fromPage({ channels: ["lobby"] });   // settings rendered by the page
//   socket.addEventListener("message", (event) => console.log(event.detail));
//   socket.addEventListener("status", () => console.log(socket.status));
//   await socket.connect();
//   const joined = await socket.join("games");           // resolves with the handler's answer
//   await socket.request({ action: "sendmessage", channel: "games", text: "hi" }).catch((error) => error.reason);
//
// It fetches a one-time token (POST to the token endpoint, same-origin cookies), connects with
// ?ws_token=, reconnects with jittered backoff and a fresh token, re-joins its channels, sends a
// heartbeat the framework answers (API Gateway closes a connection idle for 10 minutes), reconnects
// ahead of API Gateway's 2-hour cut, and matches answers to requests by id: the framework puts the
// request's id on every reply, and answers a refused request {"id", "type": "error", "status", "reason"}.

/** A refused or unanswered request: `status` is the HTTP status the backend answered (0: no answer). */
export class RequestError extends Error {
  constructor(status, reason) {
    super(reason);
    this.name = "RequestError";
    this.status = status;
    this.reason = reason;
  }
}

const defaults = {
  channels: [],
  heartbeatSeconds: 240, // well inside API Gateway's 10-minute idle timeout
  maxAgeSeconds: 7080, // 1 h 58 min: ahead of API Gateway's 2-hour cut
  requestTimeoutMs: 10000,
  backoffInitialMs: 500,
  backoffMaxMs: 30000,
  heartbeatAction: "ping", // null: no heartbeat (the backend answers none)
  maxFailedOpens: 6, // handshakes refused in a row (a channel rule, a rate limit) before giving up
};

export class GatewaySocket extends EventTarget {
  /**
   * @param {object} options `url` (the WebSocket URL), `tokenURL` (the token endpoint; none: the
   *   cookie alone logs the connection in), `channels` (joined on every connect), and the timings
   *   in `defaults`.
   */
  constructor(options) {
    super();
    if (!options || !options.url) throw new TypeError("GatewaySocket needs { url }");
    this.options = { ...defaults, ...options };
    this.channels = new Set(this.options.channels);
    this.status = "idle";
    this.attempt = 0;
    this.nextID = 1;
    this.pending = new Map();
    this.socket = null;
    this.timers = [];
    this.wanted = false;
    this.failedOpens = 0;
    this.connecting = null;
  }

  /** The settings the page rendered (`<script type="application/json" id="apigw-settings">`), with `overrides`. */
  static fromPage(overrides = {}, doc = document) {
    const element = doc.getElementById("apigw-settings");
    if (!element) throw new Error("no #apigw-settings on the page: render it with #apigwSettings()");
    return new GatewaySocket({ ...JSON.parse(element.textContent), ...overrides });
  }

  /** Opens the connection (and keeps it open until `close()`). Resolves once connected; a second
   * call while connecting or connected answers the same promise. */
  connect() {
    if (this.wanted && this.connecting) return this.connecting;
    this.wanted = true;
    this.failedOpens = 0;
    this.connecting = new Promise((resolve, reject) => {
      const onStatus = () => {
        if (this.status === "connected") {
          this.removeEventListener("status", onStatus);
          resolve(this);
        } else if (this.status === "closed") {
          this.removeEventListener("status", onStatus);
          reject(new RequestError(0, "closed"));
        }
      };
      this.addEventListener("status", onStatus);
      this.#open();
    });
    return this.connecting;
  }

  /** Closes for good: no reconnect. */
  close() {
    this.wanted = false;
    this.connecting = null;
    this.#clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000, "closed by the page");
    this.#failPending("closed");
    this.#setStatus("closed");
  }

  /** Sends `message` (an object) without waiting for an answer. */
  send(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) throw new RequestError(0, "not connected");
    this.socket.send(JSON.stringify(message));
  }

  /** Sends `message` with a fresh id; resolves with the answer carrying that id, rejects with a RequestError. */
  request(message, timeoutMs = this.options.requestTimeoutMs) {
    const id = `r${this.nextID++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError(0, "no answer in time"));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.send({ ...message, id });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(error);
      }
    });
  }

  /** Joins `channel` now and on every reconnect. */
  async join(channel) {
    const answer = await this.request({ action: "join", channel });
    this.channels.add(channel);
    return answer;
  }

  /** Leaves `channel`, and stops re-joining it. */
  async leave(channel) {
    this.channels.delete(channel);
    return this.request({ action: "leave", channel });
  }

  /** Who is in `channel` (one must be in it). */
  presence(channel) {
    return this.request({ action: "presence", channel });
  }

  // The connection's life.

  async #open() {
    this.#clearTimers();
    this.#setStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    let url = this.options.url;
    try {
      const query = new URLSearchParams();
      const [first] = this.channels;
      if (first) query.set("channel", first);
      if (this.options.tokenURL) query.set("ws_token", await this.#token());
      const separator = url.includes("?") ? "&" : "?";
      if ([...query].length) url += separator + query.toString();
    } catch (error) {
      if (!this.wanted) return;
      this.#emit("error", { status: error.status || 0, reason: error.reason || String(error.message || error) });
      if (error.status === 401 || error.status === 403) {
        this.wanted = false;
        this.#setStatus("closed");
        return;
      }
      return this.#retry();
    }
    if (!this.wanted) return; // closed while the token was fetched
    const socket = new WebSocket(url);
    this.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      this.#opened(socket);
    });
    socket.addEventListener("message", (event) => {
      if (this.socket === socket) this.#received(event.data);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.#failPending("connection lost");
      if (!this.wanted) return this.#setStatus("closed");
      // A handshake refused again and again (a rule, a limit) is not a network blip: stop.
      this.failedOpens = opened ? 0 : this.failedOpens + 1;
      if (this.failedOpens >= this.options.maxFailedOpens) {
        this.wanted = false;
        this.connecting = null;
        this.#emit("error", { status: 0, reason: "the gateway refused the connection" });
        return this.#setStatus("closed");
      }
      this.#retry();
    });
  }

  async #token() {
    const response = await fetch(this.options.tokenURL, { method: "POST", credentials: "same-origin" });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new RequestError(response.status, body.message || body.reason || response.statusText);
    }
    return (await response.json()).token;
  }

  async #opened(socket) {
    this.attempt = 0;
    // The first channel came with ?channel=; the others are joined now.
    for (const channel of [...this.channels].slice(1)) {
      try {
        await this.request({ action: "join", channel });
      } catch (error) {
        this.#emit("error", { status: error.status, reason: `could not re-join ${channel}: ${error.reason}` });
      }
    }
    if (!this.wanted || this.socket !== socket || socket.readyState !== WebSocket.OPEN) return;
    this.#setStatus("connected");
    if (this.options.heartbeatAction) {
      this.timers.push(setInterval(() => this.#heartbeat(socket), this.options.heartbeatSeconds * 1000));
    }
    // API Gateway cuts every connection at 2 hours: go first, at a moment of our choosing.
    this.timers.push(setTimeout(() => this.#renew(socket), this.options.maxAgeSeconds * 1000));
  }

  async #heartbeat(socket) {
    try {
      await this.request({ action: this.options.heartbeatAction });
    } catch {
      if (this.socket === socket) socket.close(4000, "heartbeat unanswered"); // the close reconnects
    }
  }

  #renew(socket) {
    if (this.socket === socket) socket.close(4001, "renewing ahead of the 2-hour limit");
  }

  #retry() {
    this.#clearTimers();
    this.#setStatus("reconnecting");
    const ceiling = Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jittered: clients do not return in step
    this.attempt += 1;
    this.timers.push(setTimeout(() => this.wanted && this.#open(), delay));
  }

  #received(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      this.#emit("message", data);
      return;
    }
    const waiting = message && typeof message.id === "string" ? this.pending.get(message.id) : undefined;
    if (waiting) {
      this.pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.type === "error") waiting.reject(new RequestError(message.status, message.reason));
      // A reply with an id of its own comes whole under "reply".
      else if ("reply" in message && Object.keys(message).length === 2) waiting.resolve(message.reply);
      else waiting.resolve(message);
      return;
    }
    if (message && message.type === "pong") return;
    if (message && message.type === "presence" && message.event) this.#emit("presence", message);
    this.#emit("message", message);
  }

  #failPending(reason) {
    for (const [, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new RequestError(0, reason));
    }
    this.pending.clear();
  }

  #clearTimers() {
    for (const timer of this.timers) {
      clearTimeout(timer);
      clearInterval(timer);
    }
    this.timers = [];
  }

  #setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.#emit("status", status);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
