// Due process: the statements of reasons about the signed-in user's content and account, with
// an appeal for each restriction; and, for moderators, the open appeals to uphold or reverse.

import { announce, field, h, heading, notice, safeUrl, shortId, when } from "../dom.js";
import { api, ApiError } from "../api.js";
import { pager } from "../pager.js";
import { pageSize } from "../session.js";
import { refusal } from "../refusals.js";

export const DECISIONS = {
  content_removed: "Image removed",
  account_suspended: "Account suspended",
  account_terminated: "Account terminated",
  decision_upheld: "Appeal decided: the decision stands",
  decision_reversed: "Appeal decided: the decision was reversed",
};
const SOURCES = { own_initiative: "our own checks", report: "users' reports", notice: "a notice" };

function automation(statement) {
  const detected = statement.automated_detection ? "automated" : "by a person";
  const decided = statement.automated_decision ? "automated" : "by a person";
  return `Found ${detected}; decided ${decided}.`;
}

function statementFacts(statement) {
  const rows = [
    ["Decided", when(statement.created_at)],
    ["Ground", statement.ground_reference],
    ["Category", statement.category],
    ["Why", statement.explanation],
    ["Facts relied on", statement.facts],
    ["How", automation(statement)],
    ["Started by", SOURCES[statement.source] || statement.source],
  ];
  if (statement.image_id) {
    rows.push(["Image", h("code", {}, statement.image_id)]);
  }
  if (statement.upload_id) {
    rows.push(["Upload", h("code", {}, statement.upload_id)]);
  }
  if (statement.end_date) rows.push(["Until", when(statement.end_date)]);
  return h("dl", { class: "facts" }, rows.flatMap(([term, value]) => [
    h("dt", {}, term), h("dd", {}, value)]));
}

function appealPart(statement, signal) {
  const box = h("div", { class: "appeal" });
  if (statement.appeal) {
    const { status, outcome } = statement.appeal;
    const text = status === "decided" ? `Appeal decided: ${outcome}.` : "Appeal filed: a moderator "
      + "who did not make this decision will review it.";
    box.append(h("p", { class: "appeal-status" }, text));
    return box;
  }
  if (!statement.how_to_appeal) return box;
  const explanation = h("textarea", { name: "explanation", required: true, maxlength: 5000,
    rows: 3 });
  const status = h("div");
  const form = h("form", { class: "appeal-form", hidden: true },
    field("Why the decision is wrong", explanation,
      `You can appeal until ${when(statement.appeal_deadline)}.`),
    h("button", { type: "submit" }, "Send appeal"), status);
  const open = h("button", { type: "button" }, "Appeal this decision");
  open.addEventListener("click", () => {
    form.hidden = false;
    open.hidden = true;
    explanation.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    if (!explanation.value.trim()) {
      explanation.setAttribute("aria-invalid", "true");
      status.append(notice("error", h("p", {}, "Say why the decision is wrong.")));
      return;
    }
    try {
      await api("POST", `/me/decisions/${encodeURIComponent(statement.id)}/appeal`,
        { body: { explanation: explanation.value.trim() }, signal });
      box.replaceChildren(h("p", { class: "appeal-status" },
        "Appeal filed: a moderator who did not make this decision will review it."));
      announce("Appeal filed.");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status.append(refusal(error, { signal }));
    }
  });
  box.append(h("p", { class: "hint" }, statement.how_to_appeal), open, form);
  return box;
}

function statementCard(statement, signal) {
  return h("li", { class: "statement", "data-decision": statement.decision },
    h("h2", {}, DECISIONS[statement.decision] || statement.decision),
    statementFacts(statement),
    appealPart(statement, signal));
}

export async function decisionsView(main, _params, { signal }) {
  main.append(heading("My decisions"),
    h("p", { class: "lead" }, "Every decision that removed an image of yours or restricted "
      + "your account, with its reasons. You can appeal each one once, within six months."),
    pager({
      list: h("ul", { class: "statements" }),
      fetchPage: (cursor) => api("GET", "/me/decisions", {
        query: { cursor, limit: pageSize() }, signal }),
      renderItem: (statement) => statementCard(statement, signal),
      empty: "No decisions about your content or account.",
      signal,
    }));
}

function appealDecisionForm(appeal, card, signal) {
  const reason = h("input", { type: "text", name: "reason", required: true, maxlength: 1000 });
  const status = h("div");
  const decide = (action) => async () => {
    status.replaceChildren();
    if (!reason.value.trim()) {
      reason.setAttribute("aria-invalid", "true");
      status.append(notice("error", h("p", {}, "Give a reason: the user reads it.")));
      reason.focus();
      return;
    }
    try {
      const result = await api("POST",
        `/moderation/appeals/${encodeURIComponent(appeal.id)}/decision`,
        { body: { action, reason: reason.value.trim() }, signal });
      const done = result.outcome === "reversed" ? "Reversed." : "Upheld.";
      card.replaceChildren(notice("info", h("p", {}, done)));
      announce(done);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status.append(refusal(error, { signal }));
    }
  };
  return h("div", { class: "decision" },
    field("Reason", reason, "The user reads it in their outcome statement."),
    h("p", { class: "row-actions" },
      h("button", { type: "button", onclick: decide("uphold") }, "Uphold"), " ",
      h("button", { type: "button", onclick: decide("reverse") }, "Reverse")),
    status);
}

function appealCard(appeal, signal) {
  const card = h("li", { class: "queue-item appeal-item" });
  const statement = appeal.decision;
  card.append(
    appeal.image_url ? h("img", { src: safeUrl(appeal.image_url),
      alt: "The image the decision was about", loading: "lazy", width: 256, height: 256 }) : null,
    appeal.upload_url ? h("img", { src: safeUrl(appeal.upload_url),
      alt: "The uploaded picture the decision was about", loading: "lazy", width: 256,
      height: 256 }) : null,
    h("div", { class: "about" },
      h("h2", {}, DECISIONS[statement.decision] || statement.decision),
      h("p", {}, `User ${shortId(appeal.user_id)} appealed `, when(appeal.filed_at), ": ",
        h("q", { class: "appeal-explanation" }, appeal.explanation)),
      statementFacts(statement),
      appealDecisionForm(appeal, card, signal)));
  return card;
}

/** Any image in any state, for a stated reason (audited): appeals are decided on sight. */
function lookUpForm(signal) {
  const id = h("input", { type: "text", name: "image_id", required: true, autocomplete: "off" });
  const reason = h("input", { type: "text", name: "reason", required: true, maxlength: 500 });
  const out = h("div", { class: "looked-up" });
  const form = h("form", { class: "look-up", "aria-labelledby": "look-up-title" },
    h("h2", { id: "look-up-title" }, "Look up any image"),
    field("Image id", id), field("Why you look", reason, "Recorded in the audit log."),
    h("button", { type: "submit" }, "Look up"), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    out.replaceChildren();
    try {
      const item = await api("GET", `/moderation/images/${encodeURIComponent(id.value.trim())}`,
        { query: { reason: reason.value.trim() }, signal });
      out.append(
        item.image_url ? h("img", { src: safeUrl(item.image_url), alt: item.prompt, width: 256,
          height: 256 }) : h("p", {}, "No original is kept for this image."),
        h("dl", { class: "facts" },
          h("dt", {}, "State"), h("dd", { class: "looked-up-status" }, item.status),
          h("dt", {}, "Category"), h("dd", {}, item.category || "none"),
          h("dt", {}, "Prompt"), h("dd", {}, item.prompt),
          h("dt", {}, "Creator"), h("dd", {}, shortId(item.creator))));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      out.append(refusal(error, { signal }));
    }
  });
  return form;
}

export async function appealsView(main, _params, { signal }) {
  main.append(heading("Appeals"),
    h("p", { class: "lead" }, "Open appeals, oldest first. You cannot decide an appeal of "
      + "your own decision; every image opened here is written to the ",
    h("a", { href: "#/audit" }, "audit log"), "."),
    pager({
      list: h("ul", { class: "queue" }),
      fetchPage: (cursor) => api("GET", "/moderation/appeals", {
        query: { cursor, limit: pageSize() }, signal }),
      renderItem: (appeal) => appealCard(appeal, signal),
      empty: "No open appeals.",
      signal,
    }),
    lookUpForm(signal));
}
