// Account: who you are to the service, export your data, delete your account.

import { api, ApiError, pause } from "../api.js";
import { announce, field, h, heading, notice, safeUrl } from "../dom.js";
import { refusal } from "../refusals.js";
import { session, signedOut } from "../session.js";

const CONFIRM_WORDS = "delete my account";

function unavailable(what) {
  return notice("info", h("p", {}, `${what} is not available on this server yet.`));
}

async function followExport(exportId, out, signal) {
  const bar = h("progress", { "aria-label": "Export progress" });
  const line = h("p", {}, "Preparing your data…");
  out.replaceChildren(line, bar);
  let delay = 1000;
  while (!signal.aborted) {
    const state = await api("GET", `/me/export/${encodeURIComponent(exportId)}`, { signal });
    const url = state.url ? safeUrl(state.url) : null;
    if (url) {
      out.replaceChildren(notice("info", h("p", {}, "Your data is ready. ",
        h("a", { href: url, download: "" }, "Download your data"),
        " (the link works for a short time).")));
      announce("Your data export is ready to download.");
      return;
    }
    if (state.status === "failed") {
      out.replaceChildren(notice("error", h("p", {}, "The export failed; try again later.")));
      return;
    }
    line.textContent = `Preparing your data… (${state.status})`;
    await pause(delay, signal);
    delay = Math.min(delay * 1.5, 5000);
  }
}

function exportSection(signal) {
  const out = h("div");
  const start = h("button", { type: "button" }, "Export my data");
  start.addEventListener("click", async () => {
    start.disabled = true;
    try {
      const started = await api("POST", "/me/export", { signal });
      await followExport(started.export_id, out, signal);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      out.replaceChildren(error.status === 404 || error.status === 405
        ? unavailable("Data export") : refusal(error, { signal }));
    } finally {
      start.disabled = false;
    }
  });
  return h("section", { "aria-labelledby": "export-title" },
    h("h2", { id: "export-title" }, "Export your data"),
    h("p", {}, "A file with everything Objektify holds about you: consents, prompts, images."),
    start, out);
}

function nameSection(signal) {
  const me = session.me;
  const input = h("input", { type: "text", name: "display_name", autocomplete: "nickname",
    minlength: "3", maxlength: "30", value: me.display_name || "" });
  const save = h("button", { type: "submit" }, "Save name");
  const clear = h("button", { type: "button", class: "small" }, "Remove name");
  clear.hidden = !me.display_name;
  const out = h("div", { role: "status" });

  async function send(name) {
    save.disabled = clear.disabled = true;
    try {
      const updated = await api("PATCH", "/me", { body: { display_name: name }, signal });
      session.me = { ...session.me, ...updated };
      if (!("display_name" in updated)) delete session.me.display_name;
      input.value = updated.display_name || "";
      clear.hidden = !updated.display_name;
      out.replaceChildren(notice("info", h("p", {}, updated.display_name
        ? `Saved. Your images now show “${updated.display_name}”.`
        : "Removed. Your images show a short id again.")));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      out.replaceChildren(refusal(error, { signal }));
    } finally {
      save.disabled = clear.disabled = false;
    }
  }

  const form = h("form", { "aria-labelledby": "name-title" },
    h("h2", { id: "name-title" }, "Your public name"),
    field("Display name", input, "3 to 30 characters, shown on your images and your page "
      + "instead of your id. It must be yours alone."),
    save, " ", clear, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(input.value.trim());
  });
  clear.addEventListener("click", () => send(null));
  return form;
}

function deleteSection(signal) {
  const typed = h("input", { type: "text", name: "confirm", autocomplete: "off",
    spellcheck: "false" });
  const button = h("button", { type: "submit", class: "danger", disabled: true },
    "Delete my account");
  const out = h("div");
  typed.addEventListener("input", () => {
    button.disabled = typed.value.trim().toLowerCase() !== CONFIRM_WORDS;
  });
  const form = h("form", { class: "danger-zone", "aria-labelledby": "delete-title" },
    h("h2", { id: "delete-title" }, "Delete your account"),
    h("p", {}, "This erases your personal data and every image you made. It cannot be undone."),
    field(`Type “${CONFIRM_WORDS}” to confirm`, typed), button, out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    try {
      await api("DELETE", "/me", { signal });
      localStorage.removeItem(`objektify.terms.${session.me?.user_id}`);
      signedOut();
      form.replaceChildren(notice("info", h("p", {}, "Your account is being deleted. "
        + "You have been signed out.")));
      announce("Your account is being deleted.");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      out.replaceChildren(error.status === 404 || error.status === 405
        ? unavailable("Account deletion") : refusal(error, { signal }));
      button.disabled = false;
    }
  });
  return form;
}

export async function accountView(main, _params, { signal }) {
  const me = session.me;
  main.append(heading("Your account"),
    h("dl", { class: "facts" },
      h("dt", {}, "User id"), h("dd", {}, h("code", {}, me.user_id)),
      h("dt", {}, "Standing"), h("dd", {}, me.status),
      h("dt", {}, "Roles"), h("dd", {}, me.roles?.length ? me.roles.join(", ") : "none"),
      h("dt", {}, "Terms accepted"), h("dd", {}, me.consent.accepted_version
        ? `version ${me.consent.accepted_version} (current: ${me.consent.current_version})`
        : "not yet"),
      h("dt", {}, "Your data"), h("dd", {}, "What we keep and why: ",
        h("a", { href: "#/privacy" }, "the Privacy Policy"), "; decisions about you: ",
        h("a", { href: "#/decisions" }, "My decisions"), "."),
      h("dt", {}, "Scripts"), h("dd", {}, "API keys and your webhook: ",
        h("a", { href: "#/developer" }, "Developer"), ".")),
    nameSection(signal), exportSection(signal), deleteSection(signal));
}
