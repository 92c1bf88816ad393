// A page's use of the client, typed: `tsc --noEmit --strict -p Tests/JavaScript` checks it
// against apigw-websockets.d.ts. It is never run.
import { GatewaySocket, RequestError } from "apigw-websockets";
import type { GatewayMessage, HistoryAnswer, SocketStatus, StreamPosition } from "apigw-websockets";

interface ChatMessage extends GatewayMessage {
  type: "message";
  from: string;
  text: string;
}

function isChatMessage(message: GatewayMessage): message is ChatMessage {
  return message.type === "message" && typeof message.text === "string";
}

export async function chat(): Promise<void> {
  const socket = new GatewaySocket({ url: "wss://abc123.execute-api.eu-west-1.amazonaws.com/production", tokenURL: "/ws/token", channels: ["lobby"] });
  const fromPage: GatewaySocket = GatewaySocket.fromPage({ channels: ["games"] });
  fromPage.close();
  socket.addEventListener("message", (event) => {
    if (isChatMessage(event.detail)) console.log(`${event.detail.from}: ${event.detail.text}`);
  });
  socket.addEventListener("status", (event) => {
    const status: SocketStatus = event.detail;
    console.log(status, socket.status, socket.retryAt ?? "no retry waiting");
  });
  socket.addEventListener("retry", (event) => console.log(`try ${event.detail.attempt} in ${event.detail.delayMs} ms`));
  socket.addEventListener("discontinuity", (event) => {
    const lastSeen: StreamPosition | null = event.detail.lastSeen;
    console.log(event.detail.channel ?? event.detail.user, lastSeen?.offset);
  });
  socket.addEventListener("recovered", (event) => console.log("nothing lost in", event.detail.channel));
  socket.addEventListener("error", (event) => console.log(event.detail.status, event.detail.reason));
  await socket.connect();
  const joined = await socket.join("games");
  if (joined.recovered === false) console.log("some of games is lost");
  const history: HistoryAnswer = await socket.history("lobby", { limit: 20 });
  for (const message of history.messages) console.log(message.offset);
  const position: StreamPosition | undefined = socket.position("lobby");
  console.log(position?.epoch);
  try {
    const answer = await socket.request<{ user: string }>({ action: "whoami" }, 5000);
    console.log(answer.user);
  } catch (error) {
    if (error instanceof RequestError) console.log(error.status, error.reason);
  }
  socket.send({ action: "sendmessage", channel: "lobby", text: "hi" });
  const present = await socket.presence("lobby");
  console.log(present.channel);
  await socket.leave("games");
  socket.close();
}
