// The public gallery (newest first, most liked in a period, or found by words) and one
// creator's page.

import { api } from "../api.js";
import { field, h, heading, safeUrl, shortId } from "../dom.js";
import { go, hashQuery } from "../router.js";
import { pager } from "../pager.js";
import { pageSize, signedIn } from "../session.js";

const THUMB = 256;

/** One gallery image as a link to its page; the prompt is its alt text. */
export function card(image) {
  const width = Number(image.width) || 1;
  const height = Number(image.height) || 1;
  return h("li", { class: "card" },
    h("a", { href: `#/image/${encodeURIComponent(image.id)}` },
      h("img", {
        src: safeUrl(image.thumbnail_url),
        alt: image.prompt,
        loading: "lazy",
        decoding: "async",
        width: THUMB,
        height: Math.round((THUMB * height) / width),
      }),
      h("span", { class: "caption", "aria-hidden": "true" }, image.prompt),
      image.creator_name ? h("span", { class: "by" }, `by ${image.creator_name}`) : null,
      image.likes ? h("span", { class: "likes" }, likesText(image.likes)) : null));
}

export function likesText(count) {
  return count === 1 ? "1 like" : `${count} likes`;
}

/** Who made an image, as people see them: their display name, else a short opaque id. */
export function creatorLabel(image) {
  return image.creator_name || `creator ${shortId(image.creator)}`;
}

export function imageGrid(path, { signal, empty, skip, limit = pageSize(), onPage, query }) {
  return pager({
    list: h("ul", { class: "grid" }),
    fetchPage: async (cursor, first) => {
      const page = await api("GET", path, {
        auth: false, fresh: first, query: { ...query, cursor, limit }, signal,
      });
      onPage?.(page);
      return page;
    },
    renderItem: card,
    empty,
    signal,
    skip,
  });
}

// The gallery's orders, as the API names them: [label, sort, period].
const SORTS = [
  ["Newest", "new", null],
  ["Top today", "top", "day"],
  ["Top this week", "top", "week"],
  ["Top of all time", "top", "all"],
];

function sortTabs(sort, period) {
  return h("nav", { class: "tabs", "aria-label": "Order" }, h("ul", {}, SORTS.map(
    ([label, key, span]) => {
      const current = key === sort && (span || null) === (period || null);
      const query = key === "new" ? "" : `?sort=${key}&period=${span}`;
      return h("li", {}, h("a", { href: `#/${query}`, "aria-current": current ? "page" : null },
        label));
    })));
}

function searchForm(words) {
  const input = h("input", { type: "search", name: "q", value: words, maxlength: 100,
    enterkeyhint: "search", autocomplete: "off" });
  const form = h("form", { class: "search", role: "search" },
    field("Search prompts", input),
    h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = input.value.trim();
    go(q ? `#/?q=${encodeURIComponent(q)}` : "#/");
  });
  return form;
}

export async function galleryView(main, _params, { signal }) {
  const asked = hashQuery();
  const q = (asked.get("q") || "").trim();
  const sort = asked.get("sort") === "top" ? "top" : "new";
  const period = sort === "top" ? asked.get("period") || "week" : null;
  main.append(heading(q ? `Images matching “${q}”` : "Gallery"));
  if (!signedIn() && !q) {
    main.append(h("p", { class: "lead" }, "Images people made with Objektify, free to view, "
      + "download and reuse. ", h("a", { href: "#/terms" }, "Read the terms"), " and ",
    h("a", { href: "#/sign-in" }, "sign in"), " to create your own."));
  }
  main.append(searchForm(q));
  if (q) {
    main.append(h("p", {}, h("a", { href: "#/" }, "Back to the whole gallery")),
      imageGrid("/gallery", { signal, query: { q }, empty: "No published image matches." }));
    return;
  }
  main.append(sortTabs(sort, period), imageGrid("/gallery", {
    signal,
    query: sort === "top" ? { sort, period } : {},
    empty: sort === "top" ? "No image was liked in this period yet."
      : "No images have been published yet.",
  }));
}

export async function creatorView(main, params, { signal }) {
  const title = heading(`Images by creator ${shortId(params.id)}`);
  main.append(title);
  // The name comes with the images (each entry carries it): no separate profile read.
  const named = (page) => {
    const name = page.items.find((item) => item.creator_name)?.creator_name;
    if (name) title.textContent = `Images by ${name}`;
  };
  main.append(imageGrid(`/users/${encodeURIComponent(params.id)}/gallery`, {
    signal, empty: "This creator has no published images.", onPage: named,
  }));
}
