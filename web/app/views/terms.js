// The Terms of Service: read them, accept them, and after a revision see what changed.
// The API serves only the current text, so the text a person accepted is kept in localStorage
// (per user) to show a line diff against the next revision.

import { api, ApiError } from "../api.js";
import { lineDiff, withContext } from "../diff.js";
import { add, announce, h, heading, notice, when } from "../dom.js";
import { refusal } from "../refusals.js";
import { go, rerender } from "../router.js";
import { refreshMe, session } from "../session.js";

const keyFor = (userId) => `objektify.terms.${userId}`;

function acceptedCopy(userId) {
  try {
    return JSON.parse(localStorage.getItem(keyFor(userId)) || "null");
  } catch {
    return null;
  }
}

function keepCopy(userId, terms) {
  const { version, sha256, text } = terms;
  try {
    localStorage.setItem(keyFor(userId), JSON.stringify({ version, sha256, text }));
  } catch {
    // storage full or disabled: the next revision says "revised since" without a diff
  }
}

export function termsText(text) {
  const lines = text.split(/\r?\n/).filter((line) => line.trim());
  const title = lines.length > 1 && lines[0].length < 80 && !/[.!?:]$/.test(lines[0]);
  return h("div", { class: "terms-text" },
    title ? h("h2", {}, lines[0]) : null,
    lines.slice(title ? 1 : 0).map((line) => h("p", {}, line)));
}

function changes(previous, current) {
  const lines = previous.text === current.text ? null : lineDiff(previous.text, current.text);
  if (!lines) return null;
  const shown = withContext(lines, 1);
  return h("section", { class: "diff", "aria-labelledby": "diff-title" },
    h("h2", { id: "diff-title" }, `What changed since version ${previous.version}`),
    h("ol", { class: "diff-lines" }, shown.map((line) => {
      if (line.kind === "gap") return h("li", { class: "gap" }, "…");
      const label = { added: "Added: ", removed: "Removed: ", same: "" }[line.kind];
      const body = line.kind === "added" ? h("ins", {}, line.text)
        : line.kind === "removed" ? h("del", {}, line.text) : line.text;
      return h("li", { class: line.kind }, h("span", { class: "visually-hidden" }, label), body);
    })));
}

function revisionNote(me, terms) {
  const accepted = me.consent.accepted_version;
  if (!accepted) {
    // The text itself usually says so; say it only where it does not.
    return /read and accept/i.test(terms.text) ? null : notice("info", h("p", {},
      "Please read and accept the terms below to start creating your images."));
  }
  const copy = acceptedCopy(me.user_id);
  const diff = copy && copy.version === accepted ? changes(copy, terms) : null;
  return h("div", {},
    notice("info", h("p", {}, `The terms were revised since version ${accepted}, which you `
      + `accepted. Accept version ${terms.version} to keep creating images.`)),
    diff);
}

function acceptBar(terms, signal) {
  const status = h("div", { class: "accept-status" });
  const button = h("button", { type: "button", class: "primary" }, "I accept these terms");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.replaceChildren();
    try {
      await api("POST", "/consents", { body: { version: terms.version, sha256: terms.sha256 } });
      keepCopy(session.me.user_id, terms);
      await refreshMe();
      announce(`You accepted version ${terms.version} of the terms.`);
      go("#/create");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code === "terms_outdated") {
        status.append(notice("info", h("p", {}, "The terms were revised a moment ago; "
          + "here is the new text.")));
        setTimeout(rerender, 1500);
      } else {
        status.append(refusal(error, { signal }));
      }
      button.disabled = false;
    }
  });
  return h("div", { class: "accept-bar" }, status, button);
}

export async function termsView(main, _params, { signal }) {
  main.append(heading("Terms of Service"));
  const terms = await api("GET", "/terms/current", { auth: false, fresh: true, signal });
  const me = session.me;
  if (me?.consent.required) add(main, revisionNote(me, terms));
  add(main,
    h("p", { class: "meta" }, `Version ${terms.version}, published `, when(terms.published_at)),
    termsText(terms.text));
  if (!me) {
    main.append(h("p", { class: "accept-bar" },
      h("a", { href: "#/sign-in", class: "button primary" }, "Sign in to accept and create")));
  } else if (me.consent.required) {
    main.append(acceptBar(terms, signal));
  } else {
    if (me.consent.accepted_version === terms.version) keepCopy(me.user_id, terms);
    main.append(notice("info", h("p", {}, `You accepted version ${me.consent.accepted_version}.`)));
  }
  main.append(h("p", {}, "How we handle your data: ", h("a", { href: "#/privacy" },
    "the Privacy Policy"), "."));
}

/** The privacy policy: shown, never accepted (a revision needs no fresh consent). */
export async function privacyView(main, _params, { signal }) {
  const policy = await api("GET", "/privacy/current", { auth: false, fresh: true, signal });
  main.append(heading("Privacy Policy"),
    h("p", { class: "meta" }, `Version ${policy.version}, published `, when(policy.published_at)),
    termsText(policy.text));
}
