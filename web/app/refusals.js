// Every refusal the API can give, said plainly, with what the person can do next.

import { h, notice } from "./dom.js";

const CATEGORIES = {
  sexual: "sexual content",
  violent: "graphic violence",
  hateful: "hateful content",
  illegal: "illegal content",
  copyright: "a copyright problem",
  privacy: "a privacy problem",
  other: "a breach of the terms",
};

export function categoryText(category) {
  return CATEGORIES[category] || category || "content the terms do not allow";
}

function minutesAndSeconds(total) {
  const minutes = Math.floor(total / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return minutes ? `${minutes} min ${seconds} s` : `${total % 60} s`;
}

/** A live countdown in an element; `done` runs when it reaches zero. */
function countdown(seconds, signal, done) {
  const out = h("strong", { class: "countdown" }, minutesAndSeconds(seconds));
  const endsAt = Date.now() + seconds * 1000;
  const timer = setInterval(() => {
    const left = Math.max(0, Math.ceil((endsAt - Date.now()) / 1000));
    out.textContent = minutesAndSeconds(left);
    if (left === 0) {
      clearInterval(timer);
      done?.();
    }
  }, 1000);
  signal?.addEventListener("abort", () => clearInterval(timer), { once: true });
  return out;
}

function fieldList(details) {
  const entries = Object.entries(details || {});
  if (!entries.length) return null;
  return h("ul", { class: "field-errors" },
    entries.map(([name, problem]) => h("li", {}, h("code", {}, name), ": ", String(problem))));
}

/**
 * A notice for an ApiError. `signal` stops its timers; `ready` runs when a wait is over
 * (the rate limit's countdown ends), so the form can be used again.
 */
export function refusal(error, { signal, ready } = {}) {
  const details = error.details || {};
  switch (error.code) {
    case "consent_required":
      return notice("error",
        h("p", {}, `The Terms of Service have changed (now version ${details.current_version
          ?? "?"}). Read and accept them to create images.`),
        h("p", {}, h("a", { href: "#/terms" }, "Read the terms")));
    case "account_restricted": {
      const until = details.until ? ` until ${new Date(details.until).toLocaleString()}` : "";
      return notice("error",
        h("p", {}, `Your account is ${details.status || "restricted"}${until}, so it cannot `
          + "create images, accept terms or send reports. You can still browse the gallery."));
    }
    case "prompt_rejected":
      return notice("error",
        h("p", {}, `This prompt was refused: it asks for ${categoryText(details.category)}.`),
        h("p", {}, "Change the wording and try again. Refused prompts are not stored as images."));
    case "rate_limited": {
      const wait = error.retryAfter ?? 60;
      const limit = details.limit && details.window_seconds
        ? ` (at most ${details.limit} images every ${Math.round(details.window_seconds / 60)} minutes)`
        : "";
      const box = notice("error", h("p", {}, `You have reached the creation limit${limit}. `,
        "You can create again in ", countdown(wait, signal, () => {
          box.replaceChildren(h("p", {}, "You can create again now."));
          box.className = "notice info";
          ready?.();
        }), "."));
      return box;
    }
    case "service_suspended": {
      const wait = error.retryAfter ? ` Try again in about ${Math.ceil(error.retryAfter / 60)} min.`
        : "";
      return notice("error", h("p", {}, h("strong", {}, "Switched off for now. "),
        error.message, wait));
    }
    case "name_taken":
      return notice("error", h("p", {}, "Another user has this display name. Names that differ "
        + "only in capitals, accents or look-alike letters count as the same: choose another."));
    case "invalid_request":
      if (details.display_name && details.category) {
        return notice("error", h("p", {}, "This display name was refused: it reads as "
          + `${categoryText(details.category)}. Choose another.`));
      }
      return notice("error", h("p", {}, "Some fields need changing:"), fieldList(details));
    case "unauthorized":
      return notice("error", h("p", {}, "Your sign-in has expired. ",
        h("a", { href: "#/sign-in" }, "Sign in again"), "."));
    case "forbidden":
      return notice("error", h("p", {}, "Your role does not allow this."));
    case "under_review":
      return notice("error", h("p", {}, "A moderator is deciding on this image; "
        + "you can delete it once they have decided."));
    case "conflict_of_interest":
      return notice("error", h("p", {}, "You made this decision (or it is about you), so you "
        + "cannot decide its appeal: another moderator will."));
    case "already_appealed":
      return notice("error", h("p", {}, "This decision has been appealed already; you will "
        + "see the outcome here."));
    case "appeal_window_closed":
      return notice("error", h("p", {}, "Decisions can be appealed for six months; this one is "
        + "older. A dispute settlement body or the courts remain open to you."));
    case "invalid_image":
      return notice("error", h("p", {}, "That file is not a PNG, JPEG or WebP image we can read."));
    case "payload_too_large":
      return notice("error", h("p", {}, "That file is larger than 10 MB; choose a smaller one."));
    case "not_found":
      return notice("error", h("p", {}, "Not found: it may have been removed, or it is not yours."));
    default:
      return notice("error", h("p", {}, error.message || "Something went wrong; try again."));
  }
}
