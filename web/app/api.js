// The one way the client talks to the API: JSON in and out, the bearer token when signed in,
// and every refusal as an ApiError carrying the contract's {code, message, details}.

let baseUrl = "";
let tokenOf = () => null;
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(body?.message || `The service answered ${status}.`);
    this.status = status;
    this.code = body?.code || (status ? "http_error" : "network_error");
    this.details = body?.details || {};
    const seconds = Number.parseInt(retryAfter ?? "", 10);
    this.retryAfter = Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
  }
}

export function configureApi({ base, token, unauthorized }) {
  baseUrl = (base || "").replace(/\/+$/, "");
  tokenOf = token;
  onUnauthorized = unauthorized;
}

/** An absolute URL of an API path, for links the browser follows itself (downloads). */
export function apiUrl(path) {
  return baseUrl + path;
}

/**
 * api("GET", "/gallery", {query: {limit: 24}}) → the parsed body (null when there is none).
 * `auth: false` sends no token (public reads stay cacheable); `fresh` revalidates the cache;
 * `file` sends a File or Blob as the body, with its own type (an image to check).
 */
export async function api(method, path, { body, file, query, auth = true, fresh = false,
  headers = {}, signal } = {}) {
  const url = new URL(baseUrl + path, location.href);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const init = { method, headers: { Accept: "application/json", ...headers }, signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  } else if (file !== undefined) {
    init.body = file;
    init.headers["Content-Type"] = file.type || "application/octet-stream";
  }
  const token = auth ? tokenOf() : null;
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (fresh) init.cache = "no-cache";
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, {
      code: "network_error",
      message: "Objektify could not be reached. Check the connection and try again.",
    });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data, response.headers.get("Retry-After"));
    if (response.status === 401 && token) onUnauthorized(error);
    throw error;
  }
  return data;
}

/** Wait `ms`, or less if `signal` aborts. */
export function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
