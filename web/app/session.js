// Who is using the client: the config it was given and, when signed in, the caller's /me.

import { api, ApiError, configureApi } from "./api.js";
import { currentToken, forgetToken } from "./auth.js";

export const session = {
  config: { mode: "local", apiBaseUrl: "" },
  me: null, // {user_id, status, roles, consent} while signed in
};

const listeners = new Set();

export function onSessionChange(listener) {
  listeners.add(listener);
}

function changed() {
  for (const listener of listeners) listener(session);
}

export async function loadConfig() {
  try {
    const response = await fetch("/app/config.json", { cache: "no-cache" });
    if (response.ok) session.config = { ...session.config, ...(await response.json()) };
  } catch {
    // without a config the client talks to the API on its own origin
  }
  configureApi({
    base: session.config.apiBaseUrl,
    token: currentToken,
    unauthorized: () => signedOut(),
  });
  return session.config;
}

/** Items per page of every list (the API's default unless the config says otherwise). */
export function pageSize() {
  const size = Number(session.config.pageSize);
  return Number.isInteger(size) && size >= 1 && size <= 100 ? size : 24;
}

export function signedIn() {
  return Boolean(session.me);
}

export function hasRole(role) {
  return Boolean(session.me?.roles?.includes(role));
}

export function consentRequired() {
  return Boolean(session.me?.consent?.required);
}

/** Ask /me again (after sign-in, on navigation, after a refusal that may mean it changed). */
export async function refreshMe() {
  if (!currentToken()) {
    if (session.me) signedOut();
    return null;
  }
  try {
    session.me = await api("GET", "/me");
  } catch (error) {
    // 401: the token is no longer good. Anything else (offline): keep what we knew.
    if (error instanceof ApiError && error.status === 401) session.me = null;
  }
  changed();
  return session.me;
}

export function signedOut() {
  forgetToken();
  session.me = null;
  changed();
}
