// Moderators: the append-only audit log, newest first.

import { api } from "../api.js";
import { h, heading, shortId, when } from "../dom.js";
import { pager } from "../pager.js";
import { pageSize } from "../session.js";

function actor(value) {
  const text = String(value || "");
  return text === "policy" || text.startsWith("link:") ? text : shortId(text);
}

// Users are compared by the start of their id; images and the rest are shown whole.
function target(value) {
  if (!value) return "";
  const id = value.type === "user" ? shortId(value.id) : String(value.id ?? "");
  return [`${value.type || ""} `, h("code", {}, id)];
}

function entryRow(entry) {
  return h("tr", {},
    h("td", {}, when(entry.at)),
    h("td", {}, h("code", {}, actor(entry.actor))),
    h("td", {}, entry.action),
    h("td", {}, target(entry.target)),
    h("td", {}, entry.reason || ""));
}

export async function auditView(main, _params, { signal }) {
  const rows = h("tbody");
  const table = h("div", { class: "table-wrap", role: "region", "aria-label": "Audit entries",
    tabindex: 0 },
  h("table", { class: "audit" },
    h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Target", "Reason"].map(
      (name) => h("th", { scope: "col" }, name)))),
    rows));
  main.append(heading("Audit log"),
    h("p", { class: "lead" }, "Who did or viewed what, when and why. Nothing here can be changed."),
    pager({
      list: rows,
      container: table,
      fetchPage: (cursor) => api("GET", "/moderation/audit", {
        query: { cursor, limit: pageSize() }, signal }),
      renderItem: entryRow,
      empty: "The log is empty.",
      signal,
    }));
}
