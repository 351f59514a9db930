// Sign-in. Locally: the local stack's development sign-in (config.mode "local").
// In AWS: the Cognito hosted UI, authorization code with PKCE (config.mode "cognito").
// The access token lives in sessionStorage: it is gone when the tab closes.

const SESSION_KEY = "objektify.session";
const PKCE_KEY = "objektify.pkce";

function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

/** The token's own expiry, read for timing only; the API is what verifies it. */
function expiryOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).exp * 1000;
  } catch {
    return Date.now() + 5 * 60 * 1000;
  }
}

function store(token) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token, expiresAt: expiryOf(token) }));
}

/** The current access token, or null when signed out or expired. */
export function currentToken() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (saved && saved.expiresAt > Date.now() + 10_000) return saved.token;
  } catch {
    // a damaged entry is the same as none
  }
  sessionStorage.removeItem(SESSION_KEY);
  return null;
}

export function forgetToken() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Local stack only: ask its development endpoint for a token of a local user. */
export async function devSignIn(config, username, groups) {
  const response = await fetch(config.devSignIn, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, groups }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok || !body?.token) {
    throw new Error(body?.message || `Sign-in failed (${response.status}).`);
  }
  store(body.token);
}

function cognito(config) {
  const settings = config.cognito || {};
  const redirectUri = settings.redirectUri || `${location.origin}/`;
  return {
    domain: String(settings.domain || "").replace(/\/+$/, ""),
    clientId: settings.clientId,
    scopes: settings.scopes || ["openid"],
    redirectUri,
    logoutUri: settings.logoutUri || redirectUri,
  };
}

/** Cognito: off to the hosted UI with a fresh verifier and state; back at the redirect URI. */
export async function startHostedSignIn(config) {
  const { domain, clientId, scopes, redirectUri } = cognito(config);
  const verifier = randomString(48);
  const state = randomString(16);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, returnTo: location.hash }));
  const url = new URL(`${domain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: scopes.join(" "),
    state,
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.href);
}

/** Cognito: if this page load is the hosted UI's redirect, trade the code for tokens. */
export async function completeHostedSignIn(config) {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return false;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, "", location.pathname + (saved?.returnTo || "#/"));
  if (params.has("error")) {
    throw new Error(params.get("error_description") || "Sign-in was cancelled.");
  }
  if (!saved || params.get("state") !== saved.state) {
    throw new Error("Sign-in could not be completed (the answer did not match); try again.");
  }
  const { domain, clientId, redirectUri } = cognito(config);
  const response = await fetch(`${domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: clientId,
      code: params.get("code"),
      redirect_uri: redirectUri,
      code_verifier: saved.verifier,
    }),
  });
  const tokens = await response.json().catch(() => null);
  if (!response.ok || !tokens?.access_token) {
    throw new Error("Sign-in could not be completed; try again.");
  }
  store(tokens.access_token); // the API takes Cognito access tokens
  return true;
}

/** Sign out here, and in Cognito mode at the hosted UI too. */
export function signOut(config) {
  forgetToken();
  if (config.mode === "cognito") {
    const { domain, clientId, logoutUri } = cognito(config);
    const url = new URL(`${domain}/logout`);
    url.search = new URLSearchParams({ client_id: clientId, logout_uri: logoutUri }).toString();
    location.assign(url.href);
    return true;
  }
  return false;
}
