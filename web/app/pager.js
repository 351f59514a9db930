// A list fed page by page through the API's cursors. The "Load more" button is also the
// sentinel: when it scrolls into view the next page loads by itself (infinite scroll), and
// keyboard and switch users can press it.

import { h } from "./dom.js";
import { refusal } from "./refusals.js";

/**
 * fetchPage(cursor, first) → {items, next_cursor}; renderItem(item) → an element for `list`.
 * Returns an element holding `container` (default: the list), a status line and the button.
 */
export function pager({ list, container, fetchPage, renderItem, empty, signal,
  skip = () => false }) {
  const status = h("div", { class: "pager-status", role: "status" });
  const more = h("button", { type: "button", class: "load-more" }, "Load more");
  let cursor = null;
  let done = false;
  let loading = false;
  let visible = false;
  let first = true;

  async function next() {
    if (loading || done || signal?.aborted) return;
    loading = true;
    more.disabled = true;
    status.textContent = "Loading…";
    try {
      const page = await fetchPage(cursor, first);
      first = false;
      for (const item of page.items) {
        if (!skip(item)) list.append(renderItem(item));
      }
      cursor = page.next_cursor;
      done = !cursor;
      status.textContent = list.childElementCount === 0 ? empty : "";
    } catch (error) {
      if (error.name === "AbortError") return;
      status.replaceChildren(refusal(error, { signal }));
      done = true; // a failed page stops the automatic loading; the button tries again
      more.hidden = false;
      more.textContent = "Try again";
      return;
    } finally {
      loading = false;
      more.disabled = false;
    }
    more.hidden = done;
    more.textContent = "Load more";
    if (!done && visible) requestAnimationFrame(next);
  }

  const observer = new IntersectionObserver((entries) => {
    visible = entries.some((entry) => entry.isIntersecting);
    if (visible) next();
  }, { rootMargin: "800px 0px" });
  observer.observe(more);
  signal?.addEventListener("abort", () => observer.disconnect(), { once: true });
  more.addEventListener("click", () => {
    done = false;
    next();
  });
  next();
  return h("div", { class: "pager" }, container || list, status, more);
}
