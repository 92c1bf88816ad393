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
// ?ws_token=, reconnects with jittered, capped backoff and a fresh token for as long as the page
// wants it (a "retry" event says when the next try comes), re-joins its channels, sends a heartbeat
// the framework answers (API Gateway closes a connection idle for 10 minutes; only silence recycles
// the socket), reconnects ahead of API Gateway's 2-hour cut, and matches answers to requests by id:
// the framework puts the request's id on every reply, and answers a refused request
// {"id", "type": "error", "status", "reason"}. One socket at a time: close() voids an attempt under way.
//
// With the backend's streams on, every channel message carries its place in the channel's stream
// ("channel", "offset", "epoch"; a user's stream "user" instead of "channel"). The client keeps each
// stream's last offset, re-joins with {"since": {offset, epoch}} after every reconnect (the 2-hour
// renewal included) so the backend replays what was missed, drops a message it has already had,
// holds one that comes early and fills the gap from history (a user's stream: "resume"), and tells
// the page: "recovered" (nothing was lost) or "discontinuity" (some messages could not be had: the
// history no longer reaches back, or the stream's epoch changed).

/** A refused or unanswered request: `status` is the HTTP status the backend answered (0: no answer). */
export class RequestError extends Error {
  constructor(status, reason) {
    super(reason);
    this.name = "RequestError";
    this.status = status;
    this.reason = reason;
  }
}

// The reason of a request nobody answered: the one failure that says the socket itself may be dead.
const unanswered = "no answer in time";

const defaults = {
  channels: [],
  heartbeatSeconds: 240, // well inside API Gateway's 10-minute idle timeout
  maxAgeSeconds: 7080, // 1 h 58 min: ahead of API Gateway's 2-hour cut
  requestTimeoutMs: 10000,
  backoffInitialMs: 500,
  backoffMaxMs: 30000,
  heartbeatAction: "ping", // null: no heartbeat (the backend answers none)
  // Handshakes refused in a row before giving up for good; null: never. The browser shows a refused
  // handshake as a bare close, the same as a network blip, a rate limit or a refusal another page
  // caused, so by default the client keeps backing off and trying while the page is open.
  maxFailedOpens: null,
  gapWaitMs: 300, // how long an early message waits for the ones before it before they are fetched
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
    this.retryAt = null; // when the next reconnect starts (ms since the epoch), while one is waiting
    // Each stream's last offset and epoch ("channel:lobby", "user:ada"), and the messages that came
    // early, held until the ones before them arrive.
    this.positions = new Map();
    this.held = new Map();
    this.gapTimers = new Map();
  }

  // Bumped by every connect() and close(): an attempt that finds another number on waking (after its
  // token fetch, after its backoff) belongs to a connection the page has since closed, and stops.
  #run = 0;
  #tokenFetch = null; // the AbortController of the token fetch under way

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
    this.attempt = 0;
    const run = ++this.#run;
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
      this.#open(run);
    });
    return this.connecting;
  }

  /** Closes for good: no reconnect. An attempt under way (a token being fetched, a backoff waiting,
   * a handshake) is cancelled: only a later connect() opens a socket again. */
  close() {
    this.wanted = false;
    this.#run += 1;
    this.#tokenFetch?.abort();
    this.#tokenFetch = null;
    this.connecting = null;
    this.retryAt = null;
    this.#clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000, "closed by the page");
    this.#failPending("closed");
    for (const key of [...this.held.keys()]) this.#dropHeld(key);
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
        reject(new RequestError(0, unanswered));
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

  /** Joins `channel` now and on every reconnect (then with the last position seen, so what was
   * missed is replayed). */
  async join(channel) {
    const answer = await this.request({ action: "join", channel, ...this.#since(`channel:${channel}`) });
    this.channels.add(channel);
    this.#settle(`channel:${channel}`, answer);
    return answer;
  }

  /** The last `limit` messages of `channel` (before offset `before`): `{type: "history", channel,
   * offset, epoch, complete, messages: [...]}`, oldest first. Messages it returns are not emitted as
   * "message" events again. */
  async history(channel, { limit = 50, before } = {}) {
    const answer = await this.request({ action: "history", channel, limit, ...(before != null ? { before } : {}) });
    const key = `channel:${channel}`;
    const known = this.positions.get(key);
    if (before == null && typeof answer.epoch === "string" && (!known || known.epoch !== answer.epoch || known.offset < answer.offset)) {
      // What the history holds is the page's now: a live copy of it is dropped from here on.
      this.positions.set(key, { offset: answer.offset, epoch: answer.epoch });
      const held = this.held.get(key);
      for (const offset of held?.keys() ?? []) if (offset <= answer.offset) held.delete(offset);
      this.#release(key);
    }
    return answer;
  }

  /** The stream position last seen of `channel` ({offset, epoch}), if any. */
  position(channel) {
    return this.positions.get(`channel:${channel}`);
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

  async #open(run) {
    this.#clearTimers();
    this.retryAt = null;
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
      if (run !== this.#run || !this.wanted) return; // closed (and perhaps connected anew) meanwhile
      const reason = error.reason || String(error.message || error);
      this.#emit("error", { status: error.status || 0, reason });
      // The token endpoint is the page's own origin: a 401 or 403 there is a clear answer (logged
      // out, or a cross-site request), unlike a refused handshake, so it ends the retries.
      if (error.status === 401 || error.status === 403) {
        this.wanted = false;
        this.connecting = null;
        this.#setStatus("closed");
        return;
      }
      return this.#retry(run, reason);
    }
    // Closed while the token was fetched: a connect() since then runs an attempt of its own.
    if (run !== this.#run || !this.wanted) return;
    // One live socket at a time, whatever path led here.
    if (this.socket) {
      const previous = this.socket;
      this.socket = null;
      previous.close(1000, "replaced");
    }
    const socket = new WebSocket(url);
    this.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
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
      // Early messages and their gap fills: the re-join after the reconnect replays everything after the last one emitted.
      for (const key of [...this.held.keys()]) this.#dropHeld(key);
      if (!this.wanted) return this.#setStatus("closed");
      // A refused handshake reaches the page as a bare close: a channel rule, a rate limit (perhaps
      // run down by another page), a gateway that is away all look alike. Back off and try again,
      // unless the page asked to give up after maxFailedOpens of them in a row.
      this.failedOpens = opened ? 0 : this.failedOpens + 1;
      const limit = this.options.maxFailedOpens;
      if (limit != null && this.failedOpens >= limit) {
        this.wanted = false;
        this.connecting = null;
        this.#emit("error", { status: 0, reason: "the gateway refused the connection" });
        return this.#setStatus("closed");
      }
      this.#retry(run, opened ? "connection lost" : "the gateway refused the connection");
    });
  }

  async #token() {
    // Abortable, so that close() ends the fetch too; the run check in #open is what voids it.
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    this.#tokenFetch = controller;
    try {
      const response = await fetch(this.options.tokenURL, { method: "POST", credentials: "same-origin", signal: controller?.signal });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new RequestError(response.status, body.message || body.reason || response.statusText);
      }
      return (await response.json()).token;
    } finally {
      if (this.#tokenFetch === controller) this.#tokenFetch = null;
    }
  }

  async #opened(socket) {
    // The first channel came with ?channel=; the others are joined now. A channel whose stream
    // position is known is joined again with it (the first one too), so the backend replays what
    // this connection missed.
    const [first] = this.channels;
    for (const channel of this.channels) {
      const key = `channel:${channel}`;
      if (channel === first && !this.positions.has(key)) continue;
      try {
        const answer = await this.request({ action: "join", channel, ...this.#since(key) });
        this.#settle(key, answer);
      } catch (error) {
        this.#emit("error", { status: error.status, reason: `could not re-join ${channel}: ${error.reason}` });
      }
    }
    for (const key of this.positions.keys()) {
      if (!key.startsWith("user:")) continue;
      try {
        this.#settle(key, await this.request({ action: "resume", ...this.#since(key) }));
      } catch (error) {
        this.#emit("error", { status: error.status, reason: `could not resume: ${error.reason}` });
      }
    }
    if (!this.wanted || this.socket !== socket || socket.readyState !== WebSocket.OPEN) return;
    this.#setStatus("connected");
    if (this.options.heartbeatAction) {
      this.timers.push(setInterval(() => this.#heartbeat(socket), this.options.heartbeatSeconds * 1000));
    }
    // The backoff starts over only once a connection has lasted: one the gateway accepts and then
    // cuts at once must not reconnect in a tight loop.
    this.timers.push(setTimeout(() => (this.attempt = 0), this.options.backoffMaxMs));
    // API Gateway cuts every connection at 2 hours: go first, at a moment of our choosing.
    this.timers.push(setTimeout(() => this.#renew(socket), this.options.maxAgeSeconds * 1000));
  }

  async #heartbeat(socket) {
    try {
      await this.request({ action: this.options.heartbeatAction });
    } catch (error) {
      // Only silence says the socket is dead. A refusal (a 429 from a rate limit, a 403) came back
      // over this socket, so it is alive: recycling it would only cost a reconnect and a token.
      const silent = error instanceof RequestError && error.status === 0 && error.reason === unanswered;
      if (silent && this.socket === socket) socket.close(4000, "heartbeat unanswered"); // the close reconnects
    }
  }

  #renew(socket) {
    if (this.socket !== socket) return;
    this.attempt = 0; // a renewal is planned, not a failure: it reconnects without a grown backoff
    socket.close(4001, "renewing ahead of the 2-hour limit");
  }

  #retry(run, reason) {
    this.#clearTimers();
    const exponent = Math.min(this.attempt, 30); // 2 ** attempt stays finite
    const ceiling = Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** exponent);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jittered: clients do not return in step
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.timers.push(setTimeout(() => run === this.#run && this.wanted && this.#open(run), delay));
    this.#setStatus("reconnecting");
    // Every wait, not only the first: the status stays "reconnecting" while the delays grow.
    this.#emit("retry", { attempt: this.attempt, delayMs: delay, at: this.retryAt, reason });
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
    if (message && Number.isInteger(message.offset) && typeof message.epoch === "string") {
      const key = typeof message.channel === "string" ? `channel:${message.channel}` : typeof message.user === "string" ? `user:${message.user}` : null;
      if (key) return this.#sequenced(key, message);
    }
    if (message && message.type === "presence" && message.event) this.#emit("presence", message);
    // A rule change took this connection out of a channel: it is not re-joined on reconnect.
    if (message && message.type === "removed" && typeof message.channel === "string") {
      this.channels.delete(message.channel);
      this.#emit("removed", message);
    }
    this.#emit("message", message);
  }

  // Streams: every message of a stream once, in offset order.

  #since(key) {
    const known = this.positions.get(key);
    return known ? { since: { offset: known.offset, epoch: known.epoch } } : {};
  }

  /** A join's or resume's answer: whether the replay recovered everything, and where the stream is. */
  #settle(key, answer) {
    if (!answer || typeof answer !== "object") return;
    const [kind, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
    const known = this.positions.get(key);
    const where = { [kind]: name, offset: answer.offset ?? 0, epoch: answer.epoch ?? null };
    if (answer.recovered === true) {
      this.#emit("recovered", where);
    } else if (answer.recovered === false) {
      // Some messages cannot be had: start again from where the stream is now, or from the first
      // message held, if earlier: messages this client already has are not dropped.
      const held = [...(this.held.get(key)?.values() ?? [])].filter((message) => message.epoch === answer.epoch);
      const firstHeld = held.length ? Math.min(...held.map((message) => message.offset)) - 1 : Infinity;
      if (typeof answer.epoch === "string") this.positions.set(key, { offset: Math.min(answer.offset, firstHeld), epoch: answer.epoch });
      else this.positions.delete(key);
      this.#emit("discontinuity", { ...where, lastSeen: known ?? null });
      this.#release(key);
    } else if (!known && typeof answer.epoch === "string") {
      this.positions.set(key, { offset: answer.offset, epoch: answer.epoch });
    }
  }

  #sequenced(key, message) {
    const known = this.positions.get(key);
    // Epoch "": the stream had no message when this client joined it; its first epoch is this one.
    if (known && known.epoch === "") known.epoch = message.epoch;
    if (!known || known.epoch !== message.epoch) {
      if (known) {
        // A new epoch: the stream's past was reset; what came before cannot be asked for.
        this.#dropHeld(key);
        const [kind, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
        this.#emit("discontinuity", { [kind]: name, offset: message.offset, epoch: message.epoch, lastSeen: known });
      }
      this.positions.set(key, { offset: message.offset, epoch: message.epoch });
      this.#emit("message", message);
      return;
    }
    if (message.offset <= known.offset) return; // had it already (a replay, a redelivery)
    if (message.offset > known.offset + 1) {
      // Early: the ones before it are on their way, or lost. Held, and fetched if they do not come.
      if (!this.held.has(key)) this.held.set(key, new Map());
      this.held.get(key).set(message.offset, message);
      if (!this.gapTimers.has(key)) this.gapTimers.set(key, setTimeout(() => this.#fillGap(key), this.options.gapWaitMs));
      return;
    }
    known.offset = message.offset;
    this.#emit("message", message);
    this.#release(key);
  }

  /** Emits the held messages that now follow on, and forgets those already had. */
  #release(key) {
    const held = this.held.get(key);
    const known = this.positions.get(key);
    if (!held) return;
    for (const offset of [...held.keys()]) {
      if (!known || held.get(offset).epoch !== known.epoch || offset <= known.offset) held.delete(offset);
    }
    while (known && held.has(known.offset + 1)) {
      const next = held.get(known.offset + 1);
      held.delete(known.offset + 1);
      known.offset += 1;
      this.#emit("message", next);
    }
    if (held && held.size === 0) this.#dropHeld(key);
  }

  async #fillGap(key) {
    this.gapTimers.delete(key);
    const held = this.held.get(key);
    const known = this.positions.get(key);
    if (!held || !known || held.size === 0) return;
    const [kind, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
    const firstHeld = Math.min(...held.keys());
    try {
      if (kind === "channel") {
        // Back from the first held message, a page at a time, until the last one seen.
        const pages = [];
        let before = firstHeld;
        while (before > known.offset + 1 && pages.length < 20) {
          const answer = await this.request({ action: "history", channel: name, before, limit: Math.min(100, before - known.offset - 1) });
          const messages = answer.messages ?? [];
          if (messages.length === 0) break;
          pages.unshift(messages);
          before = messages[0].offset; // a page trimmed to fit ("complete": false) goes on from its first
        }
        for (const message of pages.flat()) this.#sequenced(key, message);
      } else {
        this.#settle(key, await this.request({ action: "resume", ...this.#since(key) }));
      }
    } catch {
      // No answer (the connection is going): the re-join after the reconnect replays them. Still
      // connected: asked again shortly.
      if (this.status === "connected" && this.held.get(key)?.size && !this.gapTimers.has(key)) {
        this.gapTimers.set(key, setTimeout(() => this.#fillGap(key), this.options.gapWaitMs));
      }
      return;
    }
    const after = this.positions.get(key);
    const left = this.held.get(key);
    if (left?.size && after && after.offset + 1 < Math.min(...left.keys())) {
      // The history no longer has them: say so, and go on from the first held.
      const lastSeen = { ...after };
      after.offset = Math.min(...left.keys()) - 1;
      this.#emit("discontinuity", { [kind]: name, offset: after.offset, epoch: after.epoch, lastSeen });
      this.#release(key);
    }
  }

  #dropHeld(key) {
    this.held.delete(key);
    clearTimeout(this.gapTimers.get(key));
    this.gapTimers.delete(key);
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
