// The chat page: the framework's JavaScript client and nothing else.
import { GatewaySocket } from "/apigw-websockets.js";

const $ = (id) => document.getElementById(id);

async function post(path, form) {
  const response = await fetch(path, { method: "POST", credentials: "same-origin", body: form ? new URLSearchParams(form) : undefined });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.reason || body.message || response.statusText);
  return body;
}

const login = $("login");
if (login) {
  login.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").hidden = true;
    try {
      await post("/login", new FormData(login));
      location.reload();
    } catch (error) {
      $("login-error").textContent = error.message;
      $("login-error").hidden = false;
    }
  });
} else {
  startChat();
}

function startChat() {
  const me = document.body.dataset.user;
  const rooms = new Set(["lobby"]);
  let selected = "lobby";
  const socket = GatewaySocket.fromPage({ channels: [...rooms] });

  // The client never gives up on its own (a refused handshake looks like a network blip), so the
  // person sees it trying, and when: "reconnecting in 12 s", counted down, rather than a dead page.
  const status = $("status");
  let closedByPage = false;
  let countdown = null;
  function drawStatus() {
    let text = socket.status;
    if (socket.status === "reconnecting" && socket.retryAt) {
      const seconds = Math.ceil((socket.retryAt - Date.now()) / 1000);
      text = seconds > 0 ? `reconnecting in ${seconds} s` : "reconnecting…";
    } else if (socket.status === "reconnecting") {
      text = "reconnecting…";
    } else if (socket.status === "closed" && !closedByPage) {
      // The only close the client makes itself: the token endpoint refused (401 logged out, 403);
      // the "error" event showed why.
      text = "closed: reload to try again";
    }
    status.textContent = text;
    status.className = `status ${socket.status}`;
    const waiting = socket.status === "reconnecting" && socket.retryAt;
    if (waiting && !countdown) countdown = setInterval(drawStatus, 1000);
    if (!waiting && countdown) {
      clearInterval(countdown);
      countdown = null;
    }
  }
  // A room's last 50 messages when it is first shown; after a reconnect the client replays what was
  // missed by itself (join with since), so only a room whose gap could not be filled asks again.
  const loaded = new Set();
  async function loadHistory(room) {
    try {
      const history = await socket.history(room, { limit: 50 });
      loaded.add(room);
      if (history.complete === false) addNotice(`Older messages in #${room} are not shown`);
      for (const message of history.messages) addMessage(message);
    } catch (error) {
      showError(`Could not load #${room}: ${error.reason}`);
    }
  }
  socket.addEventListener("status", () => {
    drawStatus();
    if (socket.status !== "connected") return;
    showPresence(selected);
    for (const room of rooms) if (!loaded.has(room)) loadHistory(room);
  });
  socket.addEventListener("discontinuity", (event) => {
    const room = event.detail.channel;
    if (!room) return;
    addNotice(`Some messages in #${room} could not be recovered`, "discontinuity");
    loadHistory(room);
  });
  socket.addEventListener("retry", drawStatus);
  socket.addEventListener("error", (event) => showError(event.detail.reason));
  socket.addEventListener("message", (event) => {
    const message = event.detail;
    if (message && message.type === "message") addMessage(message);
    else if (message && message.type === "presence" && message.event) {
      if (message.user !== me) addNotice(`${message.user ?? "someone"} ${message.event} ${message.channel}`);
      if (message.channel === selected) showPresence(selected);
    } else if (message && message.type === "removed") {
      addNotice(`You were removed from #${message.channel}: ${message.reason ?? "its rule changed"}`);
    } else if (typeof message === "string") {
      addNotice(message); // plain text, e.g. the admin's send to everyone
    } else if (message && typeof message === "object" && message.type !== "pong") {
      addNotice(typeof message.text === "string" ? message.text : JSON.stringify(message));
    }
  });

  function showError(text) {
    $("error").textContent = text;
    $("error").hidden = !text;
    if (text) setTimeout(() => { if ($("error").textContent === text) $("error").hidden = true; }, 6000);
  }

  // Each stream message once, in offset order within its room: a replayed or refetched one that is
  // on the page already is not shown again.
  const shown = new Set();
  function addMessage(message) {
    const item = document.createElement("li");
    item.dataset.testid = "message";
    const streamed = Number.isInteger(message.offset) && typeof message.channel === "string";
    if (streamed) {
      const key = `${message.channel}:${message.epoch}:${message.offset}`;
      if (shown.has(key)) return;
      shown.add(key);
      Object.assign(item.dataset, { channel: message.channel, epoch: message.epoch, offset: String(message.offset) });
    }
    if (message.from === me) item.classList.add("mine");
    const room = document.createElement("span");
    room.className = "room";
    room.textContent = message.channel ? `#${message.channel}` : "everyone";
    const from = document.createElement("span");
    from.className = "from";
    from.textContent = message.from;
    item.append(room, from, document.createTextNode(message.text));
    const later = streamed
      ? [...$("messages").querySelectorAll("li[data-offset]")].find(
          (other) => other.dataset.channel === message.channel && other.dataset.epoch === message.epoch && Number(other.dataset.offset) > message.offset)
      : undefined;
    $("messages").insertBefore(item, later ?? null);
    item.scrollIntoView({ block: "end" });
  }

  function addNotice(text, testid = "notice") {
    const item = document.createElement("li");
    item.className = "notice";
    item.dataset.testid = testid;
    item.textContent = text;
    $("messages").append(item);
  }

  function drawRooms() {
    const list = $("rooms");
    list.replaceChildren();
    for (const room of rooms) {
      const item = document.createElement("li");
      item.dataset.room = room;
      if (room === selected) item.className = "selected";
      item.textContent = `#${room}`;
      item.addEventListener("click", () => { selected = room; drawRooms(); showPresence(room); });
      if (rooms.size > 1) {
        const leave = document.createElement("button");
        leave.textContent = "×";
        leave.title = `Leave ${room}`;
        leave.addEventListener("click", async (event) => {
          event.stopPropagation();
          await socket.leave(room).catch((error) => showError(error.reason));
          rooms.delete(room);
          if (selected === room) selected = [...rooms][0];
          drawRooms();
          showPresence(selected);
        });
        item.append(leave);
      }
      list.append(item);
    }
  }

  async function showPresence(room) {
    $("presence-room").textContent = `#${room}`;
    try {
      const presence = await socket.presence(room);
      const list = $("presence");
      list.replaceChildren(...presence.users.map((user) => Object.assign(document.createElement("li"), { textContent: user })));
    } catch (error) {
      showError(error.reason);
    }
  }

  $("join").addEventListener("submit", async (event) => {
    event.preventDefault();
    const room = $("room-input").value.trim();
    if (!room) return;
    try {
      await socket.join(room);
      rooms.add(room);
      if (!loaded.has(room)) loadHistory(room);
      selected = room;
      $("room-input").value = "";
      drawRooms();
      showPresence(room);
      showError("");
    } catch (error) {
      showError(`Could not join ${room}: ${error.reason}`);
    }
  });

  $("send").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("message-input").value;
    if (!text) return;
    try {
      await socket.request({ action: "sendmessage", channel: selected, text });
      $("message-input").value = "";
    } catch (error) {
      showError(error.reason);
    }
  });

  $("logout").addEventListener("click", async () => {
    closedByPage = true;
    socket.close();
    await post("/logout").catch(() => {});
    location.reload();
  });

  window.chat = { socket }; // for the browser tests, and for trying requests from the console
  drawRooms();
  socket.connect().catch((error) => showError(`Could not connect: ${error.reason}`));
}
