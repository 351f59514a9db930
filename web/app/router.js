// Screens live in the URL's fragment (#/image/ID): the page is one static file, and the API
// keeps every real path, locally and behind CloudFront alike.

const table = [];
let render = () => {};

/** route("/image/:id", view, {title, needs}) — `needs`: "user", "moderators" or "admins". */
export function route(pattern, view, options = {}) {
  table.push({ parts: pattern.split("/").filter(Boolean), view, ...options });
}

export function match(hash) {
  const path = (hash || "").replace(/^#/, "").split("?")[0];
  const parts = path.split("/").filter(Boolean);
  for (const entry of table) {
    if (entry.parts.length !== parts.length) continue;
    const params = {};
    const same = entry.parts.every((part, index) => {
      if (part.startsWith(":")) {
        try {
          params[part.slice(1)] = decodeURIComponent(parts[index]);
        } catch {
          return false;
        }
        return true;
      }
      return part === parts[index];
    });
    if (same) return { entry, params };
  }
  return null;
}

/** The query of the current screen's URL: `#/?q=cat` → URLSearchParams {q: "cat"}. */
export function hashQuery() {
  const hash = location.hash || "";
  const at = hash.indexOf("?");
  return new URLSearchParams(at < 0 ? "" : hash.slice(at + 1));
}

export function startRouter(renderer) {
  render = renderer;
  window.addEventListener("hashchange", () => render(false));
  render(true);
}

/** Draw the current screen again (after sign-in, a revision, a refusal that changed things). */
export function rerender() {
  render(false);
}

export function go(hash) {
  if (location.hash === hash) rerender();
  else location.hash = hash;
}
