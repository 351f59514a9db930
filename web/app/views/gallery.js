// The public gallery (newest first) and one creator's page.

import { api } from "../api.js";
import { h, heading, safeUrl, shortId } from "../dom.js";
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
      image.creator_name ? h("span", { class: "by" }, `by ${image.creator_name}`) : null));
}

/** Who made an image, as people see them: their display name, else a short opaque id. */
export function creatorLabel(image) {
  return image.creator_name || `creator ${shortId(image.creator)}`;
}

export function imageGrid(path, { signal, empty, skip, limit = pageSize(), onPage }) {
  return pager({
    list: h("ul", { class: "grid" }),
    fetchPage: async (cursor, first) => {
      const page = await api("GET", path, {
        auth: false, fresh: first, query: { cursor, limit }, signal,
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

export async function galleryView(main, _params, { signal }) {
  main.append(heading("Gallery"));
  if (!signedIn()) {
    main.append(h("p", { class: "lead" }, "Images people made with Objektify, free to view, "
      + "download and reuse. ", h("a", { href: "#/terms" }, "Read the terms"), " and ",
    h("a", { href: "#/sign-in" }, "sign in"), " to create your own."));
  }
  main.append(imageGrid("/gallery", { signal, empty: "No images have been published yet." }));
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
