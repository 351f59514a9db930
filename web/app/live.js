// Live updates: one WebSocket for the page, opened with the access token once GET /client-config
// names one. Each {type: "generation"} message goes to whoever follows that generation; the last
// state of each is kept, since a message may arrive before its follower (the POST's answer and
// the first push race). When no socket can be opened (none configured, refused, offline) the
// caller gets null and polls instead; a socket that closes tells its followers, who poll too.
// Each {type: "decision"} message (a statement of reasons about the user, new or with its
// appeal decided: one item of GET /me/decisions) goes to every decision listener.

import { api } from "./api.js";
import { currentToken } from "./auth.js";

const KEEP_ALIVE = 5 * 60 * 1000;
let config = null;
let opening = null; // a promise of the open socket, or of null
const followers = new Map(); // generation id → set of {onGeneration, onClosed}
const latest = new Map(); // generation id → its last state pushed
const decisionListeners = new Set();
let current = null; // the open socket

function clientConfig() {
  if (!config) {
    config = api("GET", "/client-config", { auth: false }).catch(() => ({}));
  }
  return config;
}

function deliver(event) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return;
  }
  if (message?.type === "decision" && message.decision?.id) {
    for (const listener of decisionListeners) listener(message.decision);
    return;
  }
  const generation = message?.type === "generation" ? message.generation : null;
  if (!generation?.id) return;
  latest.set(generation.id, generation);
  for (const follower of followers.get(generation.id) || []) follower.onGeneration(generation);
}

function closed() {
  opening = null;
  current = null;
  latest.clear();
  const all = [...followers.values()].flatMap((set) => [...set]);
  followers.clear();
  for (const follower of all) follower.onClosed();
}

/** The page's open socket (opened on first use), or null when there can be none. */
export function openLive() {
  if (opening) return opening;
  opening = (async () => {
    const { websocket_url: url } = await clientConfig();
    const token = currentToken();
    if (!url || !token || typeof WebSocket === "undefined") return null;
    return new Promise((resolve) => {
      let socket;
      try {
        const address = new URL(url);
        address.searchParams.set("token", token);
        socket = new WebSocket(address.href);
      } catch {
        resolve(null);
        return;
      }
      // API Gateway closes a connection idle for 10 minutes: a ping now and then keeps it.
      let keepAlive = null;
      socket.addEventListener("open", () => {
        keepAlive = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), KEEP_ALIVE);
        current = socket;
        resolve(socket);
      }, { once: true });
      socket.addEventListener("message", deliver);
      socket.addEventListener("close", () => {
        clearInterval(keepAlive);
        resolve(null);
        closed();
      }, { once: true });
    });
  })();
  const pending = opening;
  pending.then((socket) => {
    if (!socket && opening === pending) opening = null; // try again next time
  });
  return pending;
}

/**
 * Follow one generation over the open socket: `onGeneration` with each state (the last one
 * already seen first), `onClosed` if the socket closes. Returns the function that stops it.
 */
export function followLive(id, onGeneration, onClosed) {
  const follower = { onGeneration, onClosed };
  if (!followers.has(id)) followers.set(id, new Set());
  followers.get(id).add(follower);
  if (latest.has(id)) onGeneration(latest.get(id));
  return () => followers.get(id)?.delete(follower);
}

/** Call `listener(decision)` with each decision pushed (one item of GET /me/decisions). */
export function onLiveDecision(listener) {
  decisionListeners.add(listener);
}

/** Close the page's socket (signed out: nothing more of that user may arrive). */
export function closeLive() {
  current?.close();
}
