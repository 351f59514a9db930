// Notices from anyone, signed in or not (DSA art. 16): the form on every image page, and the
// page that follows one through its status link.

import { api, ApiError } from "../api.js";
import { announce, field, h, heading, notice, options, when } from "../dom.js";
import { refusal } from "../refusals.js";

const NOTICE_CATEGORIES = [
  ["copyright", "It infringes my copyright (or my client's)"],
  ["privacy", "It shows me or someone else without consent"],
  ["illegal", "It is illegal for another reason"],
  ["terms", "It breaks the Terms of Service"],
];
const OUTCOMES = { removed: "The image was removed.", no_action: "A moderator kept the image up." };

/** The token the API put at the end of the notice's status URL. */
function tokenOf(statusUrl) {
  return statusUrl.split("/notices/").pop();
}

export function noticeForm(image, signal) {
  const category = h("select", { name: "category", required: true },
    h("option", { value: "" }, "Choose what is wrong…"), options(NOTICE_CATEGORIES));
  const explanation = h("textarea", { name: "explanation", rows: 3, required: true,
    maxlength: 5000 });
  const name = h("input", { type: "text", name: "name", required: true, maxlength: 200,
    autocomplete: "name" });
  const email = h("input", { type: "email", name: "email", required: true, maxlength: 254,
    autocomplete: "email" });
  const faith = h("input", { type: "checkbox", name: "good_faith", required: true });
  const status = h("div");
  const form = h("form", { class: "notice-form", "aria-labelledby": "notice-title" },
    h("h2", { id: "notice-title" }, "Notify illegal content"),
    h("p", { class: "hint" }, "No account needed. A moderator looks at every notice; the image "
      + "stays up until they decide. Your name and e-mail are kept only until the appeal "
      + "window after the decision has passed."),
    field("What is wrong", category),
    field("Explain why, and where your rights come from", explanation),
    field("Your name", name),
    field("Your e-mail", email),
    h("label", { class: "check" }, faith, " I believe in good faith that what I say is accurate "
      + "and complete."),
    h("button", { type: "submit" }, "Send notice"),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const body = {
      image_id: image.id,
      category: category.value,
      explanation: explanation.value.trim(),
      notifier: { name: name.value.trim(), email: email.value.trim() },
      good_faith: faith.checked,
    };
    try {
      const receipt = await api("POST", "/notices", { body, auth: false, signal });
      const link = `#/notices/${encodeURIComponent(tokenOf(receipt.status_url))}`;
      form.replaceChildren(notice("info",
        h("p", {}, "Your notice was received. A moderator will decide on it."),
        h("p", {}, "Keep this link to follow it: ", h("a", { href: link }, "the notice's status"),
          ".")));
      announce("Notice sent.");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status.append(refusal(error, { signal }));
    }
  });
  return form;
}

export async function noticeStatusView(main, params, { signal }) {
  const state = await api("GET", `/notices/${encodeURIComponent(params.token)}`,
    { auth: false, fresh: true, signal });
  const rows = [
    ["Sent", when(state.created_at)],
    ["About", h("code", {}, state.image_id)],
    ["Category", state.category],
    ["State", state.status === "decided" ? "Decided" : "Received: waiting for a moderator"],
  ];
  const decision = state.decision;
  if (decision) {
    rows.push(["Outcome", OUTCOMES[decision.outcome] || decision.outcome],
      ["Decided", when(decision.decided_at)]);
    if (decision.statement) {
      rows.push(["Ground", decision.statement.ground_reference],
        ["Reasons", decision.statement.explanation]);
    }
  }
  main.append(heading("Your notice"),
    h("dl", { class: "facts notice-status" }, rows.flatMap(([term, value]) => [
      h("dt", {}, term), h("dd", {}, value)])));
}
