// My images: every generation the caller made, whatever became of it, with delete.

import { api } from "../api.js";
import { announce, h, heading, safeUrl, when } from "../dom.js";
import { pager } from "../pager.js";
import { pageSize } from "../session.js";
import { categoryText, refusal } from "../refusals.js";
import { rerender } from "../router.js";
import { statusLabel } from "./create.js";

// Not while in review: a moderator decides first (the API answers 409 under_review).
const DELETABLE = new Set(["published", "rejected", "failed"]);

function explanation(generation) {
  switch (generation.status) {
    case "in_review": return "A moderator will look at it before it is published. "
      + "You can delete it once a moderator has decided.";
    case "rejected": return `Not published: ${categoryText(generation.category)}.`;
    case "removed": return generation.category === "deleted" ? "You deleted it."
      : `Removed by a moderator: ${categoryText(generation.category)}.`;
    case "failed": return generation.error?.message || "The model could not paint it.";
    default: return "";
  }
}

function deleteButton(generation, row, signal) {
  const button = h("button", { type: "button", class: "danger small" }, "Delete");
  button.addEventListener("click", async () => {
    if (button.dataset.armed !== "yes") {
      button.dataset.armed = "yes";
      button.textContent = "Really delete?";
      announce("Press again to delete it for good.");
      return;
    }
    button.disabled = true;
    try {
      await api("DELETE", `/gallery/${encodeURIComponent(generation.id)}`, { signal });
      row.querySelector(".badge").textContent = statusLabel("removed");
      row.querySelector(".why").textContent = "You deleted it.";
      row.querySelector(".thumb")?.remove();
      button.remove();
      announce("Deleted.");
    } catch (error) {
      row.append(refusal(error, { signal }));
      button.disabled = false;
    }
  });
  return button;
}

function row(generation, signal) {
  const published = generation.status === "published";
  const link = `#/image/${encodeURIComponent(generation.id)}`;
  const thumb = generation.image ? h("img", {
    class: "thumb", src: safeUrl(generation.image.thumbnail_url), alt: generation.prompt,
    loading: "lazy", width: 96, height: Math.round((96 * generation.height) / generation.width),
  }) : null;
  const item = h("li", { class: `generation status-${generation.status}` },
    published ? h("a", { href: link, class: "thumb-link" }, thumb) : thumb,
    h("div", { class: "about" },
      h("p", { class: "prompt" }, generation.prompt),
      h("p", { class: "meta" },
        h("span", { class: `badge ${generation.status}` }, statusLabel(generation.status)),
        " ", when(generation.created_at)),
      h("p", { class: "why" }, explanation(generation)),
      h("p", { class: "row-actions" },
        published ? h("a", { href: link }, "Open") : null)));
  if (DELETABLE.has(generation.status)) {
    item.querySelector(".row-actions").append(deleteButton(generation, item, signal));
  }
  return item;
}

export async function mineView(main, _params, { signal }) {
  const refresh = h("button", { type: "button" }, "Refresh");
  refresh.addEventListener("click", rerender);
  main.append(heading("My images"), h("p", { class: "actions" }, refresh),
    pager({
      list: h("ul", { class: "generations" }),
      fetchPage: (cursor) => api("GET", "/me/generations", {
        query: { cursor, limit: pageSize() }, signal }),
      renderItem: (generation) => row(generation, signal),
      empty: "You have not created any images yet.",
      signal,
    }));
}
