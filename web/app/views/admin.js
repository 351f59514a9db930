// Operators: publish revised terms, and switch parts of the service off and on.

import { api, ApiError } from "../api.js";
import { announce, field, h, heading, notice } from "../dom.js";
import { refusal } from "../refusals.js";

function termsForm(current, signal) {
  const text = h("textarea", { name: "text", rows: 14, required: true, maxlength: 100000,
    value: current.text });
  const status = h("div");
  const inForce = h("strong", {}, `version ${current.version}`);
  const form = h("form", { class: "publish-terms", "aria-labelledby": "terms-title" },
    h("h2", { id: "terms-title" }, "Publish revised terms"),
    h("p", {}, "Now in force: ", inForce, ". Publishing a new text asks every user to accept "
      + "it before they create again."),
    field("Terms text", text),
    h("button", { type: "submit", class: "primary" }, "Publish as a new version"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    try {
      const published = await api("POST", "/admin/terms", { body: { text: text.value }, signal });
      inForce.textContent = `version ${published.version}`;
      status.append(notice("info", h("p", {}, `Published version ${published.version}.`)));
      announce(`Published version ${published.version} of the terms.`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status.append(error.status === 409
        ? notice("error", h("p", {}, error.message))
        : refusal(error, { signal }));
    }
  });
  return form;
}

function switchRow(item, signal) {
  const message = h("input", { type: "text", name: `message-${item.name}`, maxlength: 500,
    value: item.message || "" });
  const state = h("strong", {}, item.enabled ? "On" : "Off");
  const toggle = h("button", { type: "button" }, item.enabled ? "Switch off" : "Switch on");
  const status = h("div");
  let enabled = item.enabled;
  toggle.addEventListener("click", async () => {
    status.replaceChildren();
    toggle.disabled = true;
    const body = { enabled: !enabled };
    if (message.value.trim()) body.message = message.value.trim();
    try {
      const result = await api("PUT", `/admin/flags/${encodeURIComponent(item.name)}`,
        { body, signal });
      enabled = result.enabled;
      state.textContent = enabled ? "On" : "Off";
      toggle.textContent = enabled ? "Switch off" : "Switch on";
      announce(`${item.name} is now ${enabled ? "on" : "off"}.`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status.append(refusal(error, { signal }));
    } finally {
      toggle.disabled = false;
    }
  });
  return h("li", { class: "switch" },
    h("h3", {}, item.name, ": ", state),
    field(`Message shown while ${item.name} is off`, message),
    toggle, status);
}

export async function adminView(main, _params, { signal }) {
  main.append(heading("Operations"));
  const [current, flags] = await Promise.all([
    api("GET", "/terms/current", { auth: false, fresh: true, signal }),
    api("GET", "/admin/flags", { signal }),
  ]);
  main.append(
    h("section", { "aria-labelledby": "switches-title" },
      h("h2", { id: "switches-title" }, "Service switches"),
      h("p", {}, "A part switched off answers “switched off for now” with your message."),
      h("ul", { class: "switches" }, flags.items.map((item) => switchRow(item, signal)))),
    termsForm(current, signal));
}
