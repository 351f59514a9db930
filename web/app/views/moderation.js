// Moderators: the review queue (approve or remove, with a reason) and account restrictions.

import { announce, field, h, heading, notice, options, safeUrl, shortId, when } from "../dom.js";
import { api, ApiError } from "../api.js";
import { pager } from "../pager.js";
import { pageSize } from "../session.js";
import { categoryText, refusal } from "../refusals.js";
import { REPORT_REASONS } from "./image.js";

function checkSummary(flags) {
  if (!flags || (!flags.category && !flags.label && !flags.outcome)) return "nothing flagged";
  const parts = [];
  if (flags.category) parts.push(categoryText(flags.category));
  if (flags.label) parts.push(`label “${flags.label}”`);
  if (typeof flags.score === "number") parts.push(`score ${flags.score.toFixed(2)}`);
  if (flags.outcome) parts.push(`outcome ${flags.outcome}`);
  return parts.join(", ");
}

function decisionForm(item, card, signal) {
  const reason = h("input", { type: "text", name: "reason", required: true, maxlength: 1000 });
  const category = h("select", { name: "category" },
    h("option", { value: "" }, "No category"), options(REPORT_REASONS));
  const status = h("div");
  const decide = (action) => async () => {
    status.replaceChildren();
    if (!reason.value.trim()) {
      reason.setAttribute("aria-invalid", "true");
      status.append(notice("error", h("p", {}, "Give a reason: it goes into the audit log.")));
      reason.focus();
      return;
    }
    const body = { action, reason: reason.value.trim() };
    if (action === "remove" && category.value) body.category = category.value;
    try {
      const result = await api("POST",
        `/moderation/images/${encodeURIComponent(item.image_id)}/decision`, { body, signal });
      const done = result.status === "removed" ? "Removed." : "Approved and published.";
      card.replaceChildren(notice("info", h("p", {}, `${done} `, h("span", { class: "prompt" },
        item.prompt))));
      announce(done);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status.append(refusal(error, { signal }));
    }
  };
  const label = `for ${item.prompt.slice(0, 40)}`;
  return h("div", { class: "decision" },
    field("Reason", reason, "Recorded in the audit log."),
    field("Category (when removing)", category),
    h("p", { class: "row-actions" },
      h("button", { type: "button", onclick: decide("approve"), "aria-label": `Approve ${label}` },
        "Approve"), " ",
      h("button", { type: "button", class: "danger", onclick: decide("remove"),
        "aria-label": `Remove ${label}` }, "Remove")),
    status);
}

function queueCard(item, restrictForm, signal) {
  const card = h("li", { class: "queue-item" });
  const restrict = h("button", { type: "button", class: "small" }, "Restrict this creator…");
  restrict.addEventListener("click", () => restrictForm.prefill(item.creator));
  const output = h("img", { src: safeUrl(item.review_url), alt: `Under review: ${item.prompt}`,
    loading: "lazy", width: 256, height: 256 });
  // Image-to-image from the creator's upload: the upload beside the output (each view audited).
  const pictures = item.upload_url
    ? h("div", { class: "made-from-upload" },
      h("figure", {}, output, h("figcaption", {}, "Output")),
      h("figure", {}, h("img", { src: safeUrl(item.upload_url),
        alt: "The creator's upload it was made from", loading: "lazy", width: 256, height: 256 }),
      h("figcaption", {}, "Made from this upload")))
    : output;
  card.append(
    pictures,
    h("div", { class: "about" },
      h("p", { class: "prompt" }, item.prompt),
      h("dl", { class: "facts" },
        h("dt", {}, "Creator"), h("dd", {}, `creator ${shortId(item.creator)} `, restrict),
        h("dt", {}, "Created"), h("dd", {}, when(item.created_at)),
        h("dt", {}, "Automatic check"), h("dd", {}, checkSummary(item.flags)),
        h("dt", {}, "Reports"), h("dd", {}, `${item.reports?.count ?? 0}`,
          item.reports?.reasons?.length ? ` (${item.reports.reasons.join(", ")})` : ""),
        h("dt", {}, "Notices"), h("dd", {}, item.notices?.length
          ? h("ul", { class: "notices" }, item.notices.map((n) => h("li", {},
            h("strong", {}, n.category), `: ${n.explanation}`)))
          : "none"),
        h("dt", {}, "Image link expires"), h("dd", {}, when(item.review_url_expires_at))),
      decisionForm(item, card, signal)));
  return card;
}

function restrictionForm(signal) {
  const user = h("input", { type: "text", name: "user_id", required: true, autocomplete: "off" });
  const action = h("select", { name: "action" }, options([
    ["suspend", "Suspend"], ["ban", "Ban"], ["restore", "Restore"]], "suspend"));
  const until = h("input", { type: "datetime-local", name: "until" });
  const reason = h("input", { type: "text", name: "reason", required: true, maxlength: 1000 });
  const status = h("div");
  const form = h("form", { class: "restriction", "aria-labelledby": "restrict-title" },
    h("h2", { id: "restrict-title" }, "Restrict or restore an account"),
    field("User id", user), field("Action", action),
    field("Suspended until (optional)", until, "Suspensions only; empty means until restored."),
    field("Reason", reason), h("button", { type: "submit" }, "Apply"), status);
  action.addEventListener("change", () => { until.disabled = action.value !== "suspend"; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const body = { action: action.value, reason: reason.value.trim() };
    if (action.value === "suspend" && until.value) body.until = new Date(until.value).toISOString();
    try {
      const standing = await api("POST",
        `/moderation/users/${encodeURIComponent(user.value.trim())}/restriction`, { body, signal });
      status.append(notice("info", h("p", {}, `Account ${shortId(standing.user_id)} is now `
        + `${standing.status}.`)));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status.append(refusal(error, { signal }));
    }
  });
  form.prefill = (userId) => {
    user.value = userId;
    form.scrollIntoView({ block: "start" });
    reason.focus();
  };
  return form;
}

export async function moderationView(main, _params, { signal }) {
  const restrictForm = restrictionForm(signal);
  main.append(heading("Moderation"),
    h("p", { class: "lead" }, "Images waiting for a human, most urgent first. Every review "
      + "image you open here is written to the ", h("a", { href: "#/audit" }, "audit log"), ". "
      + "Users' appeals of decisions are under ", h("a", { href: "#/appeals" }, "Appeals"), "."),
    h("section", { "aria-labelledby": "queue-title" },
      h("h2", { id: "queue-title" }, "Review queue"),
      pager({
        list: h("ul", { class: "queue" }),
        fetchPage: (cursor) => api("GET", "/moderation/queue", {
          query: { cursor, limit: pageSize() }, signal }),
        renderItem: (item) => queueCard(item, restrictForm, signal),
        empty: "Nothing is waiting for review.",
        signal,
      })),
    restrictForm);
}
