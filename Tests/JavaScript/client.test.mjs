// The browser client (apigw-websockets.js) outside the browser: node's own test runner, a fake
// WebSocket and a fake fetch on globalThis, and node's mock timers, so that backoffs of minutes run
// in milliseconds and every test is deterministic (Math.random is stubbed where delays are measured).
//
//   node --test Tests/JavaScript/
//
// APIGW_CLIENT=path/to/apigw-websockets.js runs the same tests against another copy of the client
// (an older one, to see a test fail without the fix it pins).
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const source = process.env.APIGW_CLIENT
  ? pathToFileURL(resolve(process.env.APIGW_CLIENT))
  : new URL("../../Sources/APIGatewayWebSockets/Resources/apigw-websockets.js", import.meta.url);
const { GatewaySocket, RequestError } = await import(source);

const url = "wss://gateway.test/production";

/** The browser's WebSocket, with the server's side as methods: accept, refuse, drop, reply. */
class FakeWebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static all = [];

  constructor(address) {
    super();
    this.url = address;
    this.readyState = FakeWebSocket.CONNECTING;
    this.sent = [];
    this.closedWith = null; // { code, reason } when the client closed it
    FakeWebSocket.all.push(this);
  }

  get live() {
    return this.readyState === FakeWebSocket.CONNECTING || this.readyState === FakeWebSocket.OPEN;
  }

  get token() {
    return new URL(this.url).searchParams.get("ws_token");
  }

  send(data) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error("InvalidStateError: not open");
    this.sent.push(JSON.parse(data));
  }

  close(code = 1000, reason = "") {
    if (!this.live) return;
    this.closedWith = { code, reason };
    this.readyState = FakeWebSocket.CLOSING;
    // A browser reports the close later, never inside close().
    queueMicrotask(() => this.#closed(code));
  }

  accept() {
    this.readyState = FakeWebSocket.OPEN;
    this.dispatchEvent(new Event("open"));
  }

  /** A handshake the gateway refuses (a rule, a rate limit): the page sees only a close. */
  refuse() {
    this.#closed(1006);
  }

  /** The gateway cuts an open connection. */
  drop() {
    this.#closed(1001);
  }

  reply(message) {
    this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(message) }));
  }

  lastSent() {
    return this.sent[this.sent.length - 1];
  }

  #closed(code) {
    if (this.readyState === FakeWebSocket.CLOSED) return;
    this.readyState = FakeWebSocket.CLOSED;
    this.dispatchEvent(Object.assign(new Event("close"), { code }));
  }
}

// The token endpoint: answers at once with t1, t2, … unless `fetches.manual`, when each fetch
// waits in `fetches.waiting` for its test to answer it; an abort rejects it unless `deaf` (a fetch
// whose response was already on its way when the page closed).
const fetches = { count: 0, calls: [], waiting: [], manual: false, deaf: false, answer: null };

function response(status, body) {
  return { ok: status >= 200 && status < 300, status, statusText: `status ${status}`, json: async () => body };
}

function fakeFetch(address, options = {}) {
  fetches.count += 1;
  const token = `t${fetches.count}`;
  fetches.calls.push({ address, options, token });
  if (fetches.answer) return Promise.resolve(fetches.answer(fetches.count));
  if (!fetches.manual) return Promise.resolve(response(200, { token }));
  return new Promise((resolvePromise, reject) => {
    const waiting = { token, options, answer: () => resolvePromise(response(200, { token })) };
    fetches.waiting.push(waiting);
    if (!fetches.deaf) options.signal?.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" })));
  });
}

/** Lets every promise continuation run (the token fetch, the socket's handlers). */
async function flush() {
  for (let i = 0; i < 3; i++) await new Promise((done) => setImmediate(done));
}

async function advance(ms) {
  mock.timers.tick(ms);
  await flush();
}

/** Advances the clock 1 ms at a time until the client has opened `count` sockets; the time it took. */
async function waitForSocket(count, limitMs) {
  let elapsed = 0;
  while (FakeWebSocket.all.length < count) {
    if (elapsed >= limitMs) return null;
    await advance(1);
    elapsed += 1;
  }
  return elapsed;
}

/** Math.random answering `values` in turn: jittered delays become known, and both ends are hit. */
function stubRandom(values) {
  let next = 0;
  mock.method(Math, "random", () => values[next++ % values.length]);
}

function client(options = {}) {
  const socket = new GatewaySocket({ url, tokenURL: "/ws/token", heartbeatAction: null, ...options });
  const seen = [];
  socket.addEventListener("status", () => seen.push(socket.status));
  return { socket, seen };
}

/** A client connected on its first socket. */
async function connected(options = {}) {
  const made = client(options);
  const connecting = made.socket.connect();
  await flush();
  FakeWebSocket.all[0].accept();
  await flush();
  await connecting;
  return { ...made, ws: FakeWebSocket.all[0] };
}

beforeEach(() => {
  FakeWebSocket.all = [];
  Object.assign(fetches, { count: 0, calls: [], waiting: [], manual: false, deaf: false, answer: null });
  globalThis.WebSocket = FakeWebSocket;
  globalThis.fetch = fakeFetch;
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"] });
});

afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
});

describe("reconnect backoff", () => {
  test("keeps trying past six refused handshakes, each wait jittered within half and all of a doubling, capped ceiling", async () => {
    // Both ends of the jitter, and points between.
    stubRandom([0, 0.999999, 0.5, 0.25, 0.75]);
    const initial = 100;
    const cap = 2000;
    const { socket, seen } = client({ backoffInitialMs: initial, backoffMaxMs: cap });
    const retries = [];
    socket.addEventListener("retry", (event) => retries.push(event.detail));
    const connecting = socket.connect();
    connecting.catch(() => {}); // a client that gave up would reject it: the loop below says so first
    await flush();
    assert.equal(FakeWebSocket.all.length, 1);
    const waits = [];
    for (let n = 0; n < 12; n++) {
      FakeWebSocket.all[n].refuse();
      await flush();
      assert.equal(socket.status, "reconnecting", `after refusal ${n + 1}`);
      const waited = await waitForSocket(n + 2, cap + 1);
      assert.notEqual(waited, null, `no new handshake within the cap after refusal ${n + 1}: the client gave up`);
      const ceiling = Math.min(cap, initial * 2 ** n);
      // The 1-ms steps land on the first millisecond at or past the delay.
      assert.ok(waited >= Math.floor(ceiling / 2) && waited <= Math.ceil(ceiling), `wait ${n}: ${waited} ms, ceiling ${ceiling}`);
      waits.push(waited);
    }
    assert.ok(!seen.includes("closed"), `never closed: ${seen}`);
    assert.ok(waits.slice(5).every((wait) => wait >= cap / 2 && wait <= cap), `capped: ${waits}`);
    // Each wait is announced: when, and after how many tries, for a page to show a countdown.
    assert.equal(retries.length, 12);
    retries.forEach((retry, n) => {
      assert.equal(retry.attempt, n + 1);
      assert.ok(Math.abs(retry.delayMs - waits[n]) <= 1, `retry ${n}: ${retry.delayMs} against ${waits[n]}`);
      assert.equal(retry.reason, "the gateway refused the connection");
    });
    // The limit frees: the next handshake connects, and connect() resolves.
    FakeWebSocket.all.at(-1).accept();
    await flush();
    assert.equal(await connecting, socket);
    assert.equal(socket.status, "connected");
  });

  test("with the default options it never stops on refused handshakes, and no wait exceeds 30 s", async () => {
    const { socket, seen } = client();
    let settled = false;
    socket.connect().then(() => (settled = true), () => (settled = true));
    await flush();
    for (let n = 0; n < 20; n++) {
      FakeWebSocket.all[n].refuse();
      await flush();
      await advance(30000);
      assert.equal(FakeWebSocket.all.length, n + 2, `a handshake after refusal ${n + 1}`);
      assert.equal(socket.status, "reconnecting");
    }
    assert.ok(!seen.includes("closed"), `never closed: ${seen}`);
    assert.equal(settled, false, "connect() still waits for a connection");
    assert.equal(FakeWebSocket.all.filter((ws) => ws.live).length, 1);
    socket.close();
  });

  test("the page can still ask to give up: maxFailedOpens closes after that many refusals in a row", async () => {
    const { socket } = client({ backoffInitialMs: 50, maxFailedOpens: 3 });
    const errors = [];
    socket.addEventListener("error", (event) => errors.push(event.detail));
    const outcome = socket.connect().then(() => "connected", (error) => error);
    for (let n = 0; n < 3; n++) {
      await waitForSocket(n + 1, 1000);
      FakeWebSocket.all[n].refuse();
      await flush();
    }
    const error = await outcome;
    assert.ok(error instanceof RequestError);
    assert.equal(socket.status, "closed");
    assert.equal(errors.at(-1).reason, "the gateway refused the connection");
    await advance(60000);
    assert.equal(FakeWebSocket.all.length, 3);
  });

  test("a connection accepted and cut at once does not start the backoff over", async () => {
    stubRandom([0.999999]);
    const { socket } = await connected({ backoffInitialMs: 100, backoffMaxMs: 5000 });
    const waits = [];
    for (let n = 0; n < 4; n++) {
      FakeWebSocket.all[n].drop();
      await flush();
      waits.push(await waitForSocket(n + 2, 5001));
      FakeWebSocket.all[n + 1].accept();
      await flush();
      assert.equal(socket.status, "connected");
    }
    assert.deepEqual(waits, [100, 200, 400, 800]);
    // A connection that lasts starts it over.
    await advance(5000);
    FakeWebSocket.all.at(-1).drop();
    await flush();
    assert.equal(await waitForSocket(6, 5001), 100);
    socket.close();
  });

  test("a refused token (429, 503) is retried with backoff; 401 stops and closes", async () => {
    stubRandom([0]);
    const refusals = [response(429, { reason: "Too many tokens" }), response(503, { reason: "Store unavailable" })];
    fetches.answer = (n) => refusals[n - 1] ?? response(200, { token: `t${n}` });
    const { socket } = client({ backoffInitialMs: 100 });
    const errors = [];
    socket.addEventListener("error", (event) => errors.push(event.detail));
    socket.connect().catch(() => {});
    await flush();
    assert.deepEqual(errors, [{ status: 429, reason: "Too many tokens" }]);
    await advance(50); // half of the first ceiling (Math.random is 0)
    assert.deepEqual(errors.at(-1), { status: 503, reason: "Store unavailable" });
    assert.equal(socket.status, "reconnecting");
    await advance(100); // half of the second
    assert.equal(FakeWebSocket.all.length, 1);
    assert.equal(FakeWebSocket.all[0].token, "t3");
    socket.close();

    fetches.answer = () => response(401, { reason: "Not logged in" });
    const refused = client();
    const outcome = await refused.socket.connect().then(() => "connected", (error) => error.reason);
    assert.equal(outcome, "closed");
    assert.equal(refused.socket.status, "closed");
    await advance(60000);
    assert.equal(fetches.calls.length, 4, "no retry after a 401");
  });
});

describe("one live socket", () => {
  for (const order of ["first token first", "second token first"]) {
    test(`connect(), close(), connect() opens exactly one socket (${order})`, async () => {
      fetches.manual = true;
      fetches.deaf = true; // both tokens arrive: the cancelled attempt must stop on its own
      const { socket } = client();
      const first = socket.connect();
      const firstOutcome = first.then(() => "connected", (error) => error.reason);
      socket.close();
      const second = socket.connect();
      await flush();
      assert.equal(fetches.waiting.length, 2);
      const answers = order === "first token first" ? [0, 1] : [1, 0];
      for (const index of answers) {
        fetches.waiting[index].answer();
        await flush();
      }
      for (const ws of FakeWebSocket.all) if (ws.live) ws.accept();
      await flush();
      const live = FakeWebSocket.all.filter((ws) => ws.live);
      assert.equal(live.length, 1, `live sockets: ${live.map((ws) => ws.url)}`);
      assert.equal(live[0].token, "t2", "the latest connect() owns the socket");
      assert.equal(await second, socket);
      assert.equal(await firstOutcome, "closed", "the cancelled connect() rejects");
      assert.equal(socket.status, "connected");
      // Nothing of the cancelled attempt comes back later either (a retry, a second handshake).
      await advance(120000);
      assert.equal(FakeWebSocket.all.length, 1, `sockets opened: ${FakeWebSocket.all.map((ws) => ws.url)}`);
      assert.equal(live[0].live, true);
      assert.equal(socket.status, "connected");
      socket.close();
    });
  }

  test("close() during the token fetch aborts the fetch", async () => {
    fetches.manual = true;
    const { socket } = client();
    socket.connect().catch(() => {});
    await flush();
    assert.equal(fetches.calls[0].options.signal?.aborted, false);
    socket.close();
    assert.equal(fetches.calls[0].options.signal?.aborted, true);
  });

  test("close() during the token fetch opens no socket, even when the fetch answers anyway", async () => {
    // A fetch that ignores its signal (as this fake does when answered): the attempt must still stop.
    fetches.manual = true;
    const { socket } = client();
    const outcome = socket.connect().then(() => "connected", (error) => error.reason);
    await flush();
    socket.close();
    fetches.waiting[0].answer();
    await flush();
    await advance(60000);
    assert.equal(FakeWebSocket.all.length, 0);
    assert.equal(await outcome, "closed");
    assert.equal(socket.status, "closed");
  });

  test("close() during a backoff wait or a handshake leaves nothing running", async () => {
    const { socket } = client({ backoffInitialMs: 100 });
    socket.connect().catch(() => {});
    await flush();
    FakeWebSocket.all[0].refuse();
    await flush();
    socket.close(); // while the retry waits
    await advance(60000);
    assert.equal(FakeWebSocket.all.length, 1);

    socket.connect().catch(() => {});
    await flush();
    socket.close(); // while the handshake is under way
    await flush();
    assert.deepEqual(FakeWebSocket.all[1].closedWith, { code: 1000, reason: "closed by the page" });
    await advance(60000);
    assert.equal(FakeWebSocket.all.filter((ws) => ws.live).length, 0);
    assert.equal(FakeWebSocket.all.length, 2);
  });

  test("close() on a connected socket closes it for good", async () => {
    const { socket, ws } = await connected();
    socket.close();
    await flush();
    assert.deepEqual(ws.closedWith, { code: 1000, reason: "closed by the page" });
    assert.equal(socket.status, "closed");
    await advance(60000);
    assert.equal(FakeWebSocket.all.length, 1);
  });
});

describe("heartbeat", () => {
  const timing = { heartbeatAction: "ping", heartbeatSeconds: 1, requestTimeoutMs: 500 };

  test("a heartbeat answered with a refusal (429, 403) keeps the socket: it is alive", async () => {
    const { socket, ws } = await connected(timing);
    for (const [status, reason] of [[429, "Too many requests"], [403, "Forbidden"]]) {
      await advance(1000);
      const ping = ws.lastSent();
      assert.equal(ping.action, "ping");
      ws.reply({ id: ping.id, type: "error", status, reason });
      await flush();
      await advance(500); // past the request's timeout too
      assert.equal(ws.closedWith, null, `closed after a ${status} answer`);
      assert.equal(ws.live, true);
      assert.equal(socket.status, "connected");
    }
    assert.equal(FakeWebSocket.all.length, 1);
    socket.close();
  });

  test("an answered heartbeat keeps the socket; an unanswered one recycles it with a fresh token", async () => {
    const { socket, ws } = await connected(timing);
    await advance(1000);
    ws.reply({ id: ws.lastSent().id, type: "pong" });
    await flush();
    await advance(1000);
    assert.equal(ws.sent.length, 2);
    await advance(500); // the second goes unanswered
    assert.deepEqual(ws.closedWith, { code: 4000, reason: "heartbeat unanswered" });
    assert.notEqual(socket.status, "closed");
    await waitForSocket(2, 1000);
    assert.equal(FakeWebSocket.all[1].token, "t2");
    FakeWebSocket.all[1].accept();
    await flush();
    assert.equal(socket.status, "connected");
    socket.close();
  });
});

describe("what already held", () => {
  test("every connection fetches a fresh one-time token and carries the first channel", async () => {
    stubRandom([0]);
    const { socket, ws } = await connected({ channels: ["lobby"], backoffInitialMs: 100 });
    assert.equal(fetches.calls[0].address, "/ws/token");
    assert.equal(fetches.calls[0].options.method, "POST");
    assert.equal(fetches.calls[0].options.credentials, "same-origin");
    assert.equal(ws.url, `${url}?channel=lobby&ws_token=t1`);
    ws.drop();
    await flush();
    assert.equal(socket.status, "reconnecting");
    await waitForSocket(2, 1000);
    assert.equal(FakeWebSocket.all[1].url, `${url}?channel=lobby&ws_token=t2`);
    socket.close();
  });

  test("the other channels are re-joined on every connection before it reports connected", async () => {
    const { socket } = client({ channels: ["lobby", "games"] });
    const connecting = socket.connect();
    await flush();
    const ws = FakeWebSocket.all[0];
    ws.accept();
    await flush();
    assert.equal(socket.status, "connecting");
    const join = ws.lastSent();
    assert.deepEqual({ action: join.action, channel: join.channel }, { action: "join", channel: "games" });
    ws.reply({ id: join.id, type: "joined", channel: "games" });
    await flush();
    await connecting;
    assert.equal(socket.status, "connected");
    socket.close();
  });

  test("a channel the server removed the connection from (a rule change) is not re-joined", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"] });
    const removed = [];
    socket.addEventListener("removed", (event) => removed.push(event.detail.channel));
    // Joined later, then removed by a rule change.
    const joining = socket.join("ops");
    await flush();
    ws.reply({ id: ws.lastSent().id, type: "joined", channel: "ops" });
    await joining;
    ws.reply({ type: "removed", channel: "ops", reason: "Permission denied" });
    await flush();
    assert.deepEqual(removed, ["ops"]);
    assert.deepEqual([...socket.channels], ["lobby"]);
    ws.drop();
    await advance(60_000);
    const next = FakeWebSocket.all[FakeWebSocket.all.length - 1];
    assert.notEqual(next, ws);
    next.accept();
    await flush();
    assert.equal(next.sent.filter((sent) => sent.action === "join" && sent.channel === "ops").length, 0, "ops is not asked for again");
    socket.close();
  });

  test("requests are answered by id, in any order; a refusal rejects with its status and reason", async () => {
    const { socket, ws } = await connected();
    const first = socket.request({ action: "presence", channel: "lobby" });
    const second = socket.request({ action: "channels" });
    const refused = socket.request({ action: "join", channel: "staff" });
    const [a, b, c] = ws.sent;
    assert.notEqual(a.id, b.id);
    ws.reply({ id: c.id, type: "error", status: 403, reason: "Permission denied" });
    ws.reply({ id: b.id, reply: { channels: ["lobby"] } }); // a reply with an id of its own comes whole
    ws.reply({ id: a.id, type: "presence", users: ["ada"] });
    assert.deepEqual(await first, { id: a.id, type: "presence", users: ["ada"] });
    assert.deepEqual(await second, { channels: ["lobby"] });
    await assert.rejects(refused, (error) => error instanceof RequestError && error.status === 403 && error.reason === "Permission denied");
    socket.close();
  });

  test("an unanswered request rejects with status 0; messages without a waiting id are events", async () => {
    const { socket, ws } = await connected({ requestTimeoutMs: 500 });
    const messages = [];
    socket.addEventListener("message", (event) => messages.push(event.detail));
    const silent = socket.request({ action: "echo" });
    const outcome = silent.then(() => "answered", (error) => error);
    await advance(500);
    const error = await outcome;
    assert.ok(error instanceof RequestError);
    assert.deepEqual([error.status, error.reason], [0, "no answer in time"]);
    ws.reply({ type: "message", from: "ada", text: "hi" });
    ws.reply({ type: "pong" });
    assert.deepEqual(messages, [{ type: "message", from: "ada", text: "hi" }]);
    socket.close();
  });

  test("the connection is renewed ahead of its maximum age", async () => {
    const { socket, ws, seen } = await connected({ maxAgeSeconds: 3 });
    await advance(3000);
    assert.deepEqual(ws.closedWith, { code: 4001, reason: "renewing ahead of the 2-hour limit" });
    await waitForSocket(2, 1000);
    FakeWebSocket.all[1].accept();
    await flush();
    assert.deepEqual(seen, ["connecting", "connected", "reconnecting", "connected"]);
    socket.close();
  });
});

describe("streams", () => {
  const epoch = "e1";
  const line = (offset, text = `m${offset}`, channel = "lobby") => ({ channel, offset, epoch, type: "message", text });

  /** The gateway cuts `ws`; the client's next socket, accepted. */
  async function droppedAndReconnected(ws) {
    ws.drop();
    await waitForSocket(2, 60_000);
    const next = FakeWebSocket.all[1];
    next.accept();
    await flush();
    return next;
  }

  /** The lobby's history answer to `request`: the stream at `offset`, with `messages`. */
  function answerHistory(ws, request, offset, messages, { complete = true } = {}) {
    ws.reply({ id: request.id, type: "history", channel: "lobby", offset, epoch, complete, messages });
  }

  function collect(socket) {
    const got = { messages: [], recovered: [], discontinuity: [] };
    socket.addEventListener("message", (event) => got.messages.push(event.detail));
    socket.addEventListener("recovered", (event) => got.recovered.push(event.detail));
    socket.addEventListener("discontinuity", (event) => got.discontinuity.push(event.detail));
    return got;
  }

  test("a message whose offset was seen already is dropped; the others come once, in order", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"] });
    const got = collect(socket);
    for (const offset of [1, 2, 2, 1, 3]) ws.reply(line(offset));
    await flush();
    assert.deepEqual(got.messages.map((message) => message.offset), [1, 2, 3]);
    assert.deepEqual(socket.position("lobby"), { offset: 3, epoch });
    socket.close();
  });

  test("an early message is held, the gap filled from history, and all come in offset order", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"], gapWaitMs: 300 });
    const got = collect(socket);
    ws.reply(line(1));
    ws.reply(line(4));
    ws.reply(line(5));
    await flush();
    assert.deepEqual(got.messages.map((message) => message.offset), [1], "4 and 5 wait for 2 and 3");
    // 2 arrives late by itself; 3 never does: after the wait, the client asks the history for what is missing.
    ws.reply(line(2));
    await advance(300);
    const asked = ws.lastSent();
    assert.deepEqual({ action: asked.action, channel: asked.channel, before: asked.before, limit: asked.limit }, { action: "history", channel: "lobby", before: 4, limit: 1 });
    answerHistory(ws, asked, 5, [line(3)]);
    await flush();
    assert.deepEqual(got.messages.map((message) => message.offset), [1, 2, 3, 4, 5]);
    assert.equal(got.discontinuity.length, 0);
    socket.close();
  });

  test("a gap the history cannot fill is a discontinuity, and the held messages follow it", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"], gapWaitMs: 100 });
    const got = collect(socket);
    ws.reply(line(1));
    ws.reply(line(9));
    await advance(100);
    const asked = ws.lastSent();
    answerHistory(ws, asked, 9, []);
    await flush();
    assert.deepEqual(got.messages.map((message) => message.offset), [1, 9]);
    assert.deepEqual(got.discontinuity.map((event) => [event.channel, event.offset, event.lastSeen.offset]), [["lobby", 8, 1]]);
    socket.close();
  });

  test("a gap the connection loses before it is filled skips nothing: the re-join asks from the last message emitted", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"], gapWaitMs: 100, requestTimeoutMs: 60_000 });
    const got = collect(socket);
    ws.reply(line(10));
    ws.reply(line(12));
    await advance(100);
    assert.equal(ws.lastSent().action, "history", "the fill is asked");
    const next = await droppedAndReconnected(ws);
    const rejoin = next.lastSent();
    assert.deepEqual(rejoin.since, { offset: 10, epoch }, "11 is asked for again");
    next.reply(line(11));
    next.reply(line(12));
    next.reply({ id: rejoin.id, type: "joined", channel: "lobby", recovered: true, offset: 12, epoch });
    await flush();
    assert.deepEqual(got.messages.map((message) => message.offset), [10, 11, 12]);
    assert.equal(got.discontinuity.length, 0);
    socket.close();
  });

  test("a re-join that cannot recover keeps the live messages past the stream's position", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"], requestTimeoutMs: 60_000 });
    const got = collect(socket);
    ws.reply(line(5));
    await flush();
    const next = await droppedAndReconnected(ws);
    const rejoin = next.lastSent();
    // A live message past the head arrives before the answer.
    next.reply(line(2001));
    next.reply({ id: rejoin.id, type: "joined", channel: "lobby", recovered: false, offset: 2000, epoch });
    await flush();
    assert.deepEqual(got.messages.map((message) => message.offset), [5, 2001]);
    assert.deepEqual(got.discontinuity.map((event) => [event.offset, event.lastSeen.offset]), [[2000, 5]]);
    socket.close();
  });

  test("a gap of more than one page is filled a page at a time", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"], gapWaitMs: 100 });
    const got = collect(socket);
    ws.reply(line(1));
    ws.reply(line(152));
    await advance(100);
    const later = ws.lastSent();
    assert.deepEqual({ before: later.before, limit: later.limit }, { before: 152, limit: 100 });
    answerHistory(ws, later, 152, Array.from({ length: 100 }, (_, i) => line(52 + i)));
    await flush();
    const earlier = ws.lastSent();
    assert.deepEqual({ before: earlier.before, limit: earlier.limit }, { before: 52, limit: 50 });
    answerHistory(ws, earlier, 152, Array.from({ length: 50 }, (_, i) => line(2 + i)));
    await flush();
    assert.deepEqual(got.messages.map((message) => message.offset), Array.from({ length: 152 }, (_, i) => i + 1));
    assert.equal(got.discontinuity.length, 0);
    socket.close();
  });

  test("a history page trimmed to fit (complete: false) is not the end: paging goes on", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"], gapWaitMs: 100 });
    const got = collect(socket);
    ws.reply(line(1));
    ws.reply(line(60));
    await advance(100);
    const first = ws.lastSent();
    answerHistory(ws, first, 60, Array.from({ length: 20 }, (_, i) => line(40 + i)), { complete: false });
    await flush();
    const second = ws.lastSent();
    assert.deepEqual({ before: second.before, limit: second.limit }, { before: 40, limit: 38 });
    answerHistory(ws, second, 60, Array.from({ length: 38 }, (_, i) => line(2 + i)));
    await flush();
    assert.deepEqual(got.messages.map((message) => message.offset), Array.from({ length: 60 }, (_, i) => i + 1));
    assert.equal(got.discontinuity.length, 0);
    socket.close();
  });

  test("a resume that cannot recover does not drop the messages the client already holds", async () => {
    const { socket, ws } = await connected({ channels: [], gapWaitMs: 100 });
    const got = collect(socket);
    const note = (offset) => ({ user: "ada", offset, epoch, type: "notice", text: `n${offset}` });
    ws.reply(note(10));
    ws.reply(note(12));
    ws.reply(note(13));
    await advance(100);
    const resume = ws.lastSent();
    assert.equal(resume.action, "resume");
    ws.reply({ id: resume.id, type: "resumed", user: "ada", recovered: false, offset: 13, epoch });
    await flush();
    assert.deepEqual(got.messages.map((message) => message.offset), [10, 12, 13]);
    assert.equal(got.discontinuity.length, 1);
    socket.close();
  });

  test("every reconnect re-joins each channel with its last position, the first one too", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"], requestTimeoutMs: 60_000 });
    const got = collect(socket);
    const joining = socket.join("games");
    await flush();
    ws.reply({ id: ws.lastSent().id, type: "joined", channel: "games" });
    await joining;
    ws.reply(line(7));
    ws.reply(line(3, "g", "games"));
    await flush();
    const next = await droppedAndReconnected(ws);
    const lobby = next.lastSent();
    assert.deepEqual({ action: lobby.action, channel: lobby.channel, since: lobby.since }, { action: "join", channel: "lobby", since: { offset: 7, epoch } });
    // The backend replays what was missed, then answers.
    next.reply(line(8));
    next.reply({ id: lobby.id, type: "joined", channel: "lobby", recovered: true, offset: 8, epoch });
    await flush();
    const games = next.lastSent();
    assert.deepEqual({ channel: games.channel, since: games.since }, { channel: "games", since: { offset: 3, epoch } });
    next.reply({ id: games.id, type: "joined", channel: "games", recovered: false, offset: 40, epoch: "e2" });
    await flush();
    assert.equal(socket.status, "connected");
    assert.deepEqual(got.messages.map((message) => message.offset), [7, 3, 8]);
    assert.deepEqual(got.recovered.map((event) => event.channel), ["lobby"]);
    assert.deepEqual(got.discontinuity.map((event) => [event.channel, event.offset, event.epoch]), [["games", 40, "e2"]]);
    assert.deepEqual(socket.position("games"), { offset: 40, epoch: "e2" }, "it goes on from where the stream is");
    next.reply(line(41, "after", "games"));
    next.reply({ ...line(41, "after", "games"), epoch: "e2" });
    await flush();
    assert.deepEqual(got.messages.map((message) => message.text).slice(-1), ["after"], "the e2 message, once");
    socket.close();
  });

  test("a channel joined while empty (epoch \"\") takes the first epoch it sees without a discontinuity", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"] });
    const got = collect(socket);
    const joining = socket.join("games");
    await flush();
    ws.reply({ id: ws.lastSent().id, type: "joined", channel: "games", offset: 0, epoch: "" });
    await joining;
    ws.reply(line(1, "first", "games"));
    await flush();
    assert.deepEqual(got.messages.map((message) => message.text), ["first"]);
    assert.equal(got.discontinuity.length, 0);
    assert.deepEqual(socket.position("games"), { offset: 1, epoch });
    socket.close();
  });

  test("a new epoch on a live message is a discontinuity", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"] });
    const got = collect(socket);
    ws.reply(line(5));
    ws.reply({ ...line(1), epoch: "reset" });
    await flush();
    assert.deepEqual(got.messages.map((message) => message.offset), [5, 1]);
    assert.deepEqual(got.discontinuity.map((event) => [event.offset, event.epoch, event.lastSeen.epoch]), [[1, "reset", epoch]]);
    socket.close();
  });

  test("a user's stream resumes on reconnect", async () => {
    const { socket, ws } = await connected({ channels: [] });
    const got = collect(socket);
    ws.reply({ user: "ada", offset: 2, epoch, type: "notice", text: "export ready" });
    await flush();
    const next = await droppedAndReconnected(ws);
    const resume = next.lastSent();
    assert.deepEqual({ action: resume.action, since: resume.since }, { action: "resume", since: { offset: 2, epoch } });
    next.reply({ user: "ada", offset: 3, epoch, type: "notice", text: "missed" });
    next.reply({ id: resume.id, type: "resumed", user: "ada", recovered: true, offset: 3, epoch });
    await flush();
    assert.deepEqual(got.messages.map((message) => message.text), ["export ready", "missed"]);
    assert.deepEqual(got.recovered.map((event) => event.user), ["ada"]);
    socket.close();
  });

  test("a joined answer sets the position a fresh channel starts from; history() too", async () => {
    const { socket, ws } = await connected({ channels: ["lobby"] });
    const got = collect(socket);
    const joining = socket.join("games");
    await flush();
    ws.reply({ id: ws.lastSent().id, type: "joined", channel: "games", offset: 10, epoch });
    await joining;
    ws.reply(line(10, "old", "games"));
    ws.reply(line(11, "new", "games"));
    const loading = socket.history("lobby", { limit: 50 });
    await flush();
    const asked = ws.lastSent();
    assert.deepEqual({ action: asked.action, limit: asked.limit }, { action: "history", limit: 50 });
    answerHistory(ws, asked, 4, [line(3), line(4)]);
    const history = await loading;
    assert.equal(history.messages.length, 2);
    ws.reply(line(4));
    ws.reply(line(5));
    await flush();
    assert.deepEqual(got.messages.map((message) => `${message.channel}:${message.offset}`), ["games:11", "lobby:5"]);
    socket.close();
  });
});
