// Developer: personal API keys for scripts (made, shown once, listed, revoked) and the webhook
// that receives the final state of every generation (set, shown, removed, with its deliveries).

import { api, ApiError } from "../api.js";
import { announce, field, h, heading, notice, shortId, when } from "../dom.js";
import { refusal } from "../refusals.js";

const SCOPES = [
  ["generate", "Generate", "submit prompts (POST /generations)"],
  ["read", "Read", "read your account, generations, decisions and webhook"],
];

/** A secret shown this once, with a button that copies it. */
function shownOnce(label, secret, what) {
  const box = h("input", { type: "text", readonly: true, value: secret, spellcheck: "false",
    autocomplete: "off", class: "secret", "aria-label": label });
  box.addEventListener("focus", () => box.select());
  const copy = h("button", { type: "button" }, "Copy");
  const copied = h("span", { role: "status" });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      copied.textContent = " Copied.";
    } catch {
      box.focus();
      box.select();
      copied.textContent = " Select the text and copy it yourself.";
    }
  });
  return notice("info", h("p", {}, h("strong", {}, `${what} `),
    "It is shown this once: copy it now and keep it somewhere safe. ",
    "Objektify keeps no copy it could show you again."), box, " ", copy, copied);
}

function keyRow(key, onRevoke) {
  const revoke = h("button", { type: "button", class: "small danger" }, "Revoke");
  const cell = h("td", {}, revoke);
  revoke.addEventListener("click", () => {
    const sure = h("button", { type: "button", class: "small danger" }, "Confirm revoke");
    const keep = h("button", { type: "button", class: "small" }, "Keep");
    keep.addEventListener("click", () => cell.replaceChildren(revoke));
    sure.addEventListener("click", () => {
      sure.disabled = keep.disabled = true;
      onRevoke(key);
    });
    cell.replaceChildren(h("span", {}, `Scripts using “${key.name}” stop working at once. `),
      sure, " ", keep);
    sure.focus();
  });
  return h("tr", { "data-key": key.id },
    h("td", {}, key.name),
    h("td", {}, h("code", {}, `${key.prefix}…`)),
    h("td", {}, key.scopes.join(", ")),
    h("td", {}, when(key.created_at)),
    h("td", {}, key.last_used_at ? when(key.last_used_at) : "never"),
    cell);
}

function keysSection(signal) {
  const list = h("div", { class: "table-wrap" });
  const out = h("div");
  const name = h("input", { type: "text", name: "key_name", maxlength: "100",
    autocomplete: "off", required: true });
  const boxes = SCOPES.map(([value]) => h("input", { type: "checkbox", name: "scopes", value,
    checked: true, id: `scope-${value}` }));
  const create = h("button", { type: "submit" }, "Create key");

  async function load() {
    try {
      const { items } = await api("GET", "/me/api-keys", { signal });
      if (!items.length) {
        list.replaceChildren(h("p", {}, "You have no API keys."));
        return;
      }
      list.replaceChildren(h("table", { class: "audit", "aria-label": "Your API keys" },
        h("thead", {}, h("tr", {}, ["Name", "Key", "Scopes", "Created", "Last used", ""]
          .map((title) => h("th", { scope: "col" }, title)))),
        h("tbody", {}, items.map((key) => keyRow(key, revoke)))));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      list.replaceChildren(refusal(error, { signal }));
    }
  }

  async function revoke(key) {
    try {
      await api("DELETE", `/me/api-keys/${encodeURIComponent(key.id)}`, { signal });
      out.replaceChildren(notice("info", h("p", {}, `Revoked “${key.name}”.`)));
      announce(`API key ${key.name} revoked.`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      out.replaceChildren(refusal(error, { signal }));
    }
    await load();
  }

  const form = h("form", { "aria-labelledby": "keys-title" },
    h("h2", { id: "keys-title" }, "API keys"),
    h("p", {}, "A key lets a script act as you without signing in: send it as ",
      h("code", {}, "Authorization: Bearer objk_…"), ". It can never moderate or administer, "
      + "make other keys, export or delete your account, and it follows the same terms, "
      + "limits and restrictions as you."),
    field("Key name", name, "So you can tell your keys apart, e.g. “laptop script”."),
    h("fieldset", {}, h("legend", {}, "What the key may do"),
      boxes.map((box, n) => h("div", { class: "check" }, box,
        h("label", { for: box.id }, `${SCOPES[n][1]}: ${SCOPES[n][2]}`)))),
    create, out, list);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const scopes = boxes.filter((box) => box.checked).map((box) => box.value);
    create.disabled = true;
    try {
      const made = await api("POST", "/me/api-keys", {
        body: { name: name.value.trim(), scopes }, signal });
      name.value = "";
      out.replaceChildren(shownOnce("Your new API key", made.key, `Your key “${made.name}”.`));
      announce("API key created. It is shown once; copy it now.");
      await load();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      out.replaceChildren(refusal(error, { signal }));
    } finally {
      create.disabled = false;
    }
  });
  load();
  return form;
}

function deliveriesTable(deliveries) {
  if (!deliveries.length) return h("p", {}, "No deliveries yet.");
  return h("div", { class: "table-wrap" }, h("table", { class: "audit",
    "aria-label": "Recent webhook deliveries" },
  h("thead", {}, h("tr", {}, ["Event", "Generation", "Delivery", "Tries", "Last answer", "When"]
    .map((title) => h("th", { scope: "col" }, title)))),
  h("tbody", {}, deliveries.map((d) => h("tr", {},
    h("td", {}, d.event),
    h("td", {}, h("code", { title: d.generation_id }, shortId(d.generation_id))),
    h("td", {}, d.status.replace("_", " ")),
    h("td", {}, String(d.attempts)),
    h("td", {}, d.last_result || "—"),
    h("td", {}, when(d.updated_at)))))));
}

function webhookSection(signal) {
  const state = h("div");
  const out = h("div");
  const url = h("input", { type: "text", inputmode: "url", name: "webhook_url",
    maxlength: "2048", autocomplete: "off", spellcheck: "false", required: true,
    placeholder: "https://example.com/hooks/objektify" });
  const save = h("button", { type: "submit" }, "Save webhook");
  const remove = h("button", { type: "button", class: "danger" }, "Remove webhook");
  remove.hidden = true;

  async function load() {
    try {
      const hook = await api("GET", "/me/webhook", { signal });
      remove.hidden = !hook.url;
      state.replaceChildren(
        h("dl", { class: "facts" }, h("dt", {}, "Sends to"),
          h("dd", {}, hook.url ? h("code", {}, hook.url) : "nowhere (no webhook set)")),
        h("h3", {}, "Recent deliveries"), deliveriesTable(hook.deliveries || []));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      state.replaceChildren(refusal(error, { signal }));
    }
  }

  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await api("DELETE", "/me/webhook", { signal });
      out.replaceChildren(notice("info", h("p", {}, "Webhook removed; nothing more is sent.")));
      announce("Webhook removed.");
      await load();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      out.replaceChildren(refusal(error, { signal }));
    } finally {
      remove.disabled = false;
    }
  });

  const form = h("form", { "aria-labelledby": "hook-title" },
    h("h2", { id: "hook-title" }, "Webhook"),
    h("p", {}, "Objektify POSTs the final state of each of your generations to this URL, "
      + "signed: check the ", h("code", {}, "Objektify-Signature"), " header (t=<unix time>, "
      + "v1=hex HMAC-SHA256 of “<t>.<body>” with your secret) before trusting a delivery."),
    state,
    field("Webhook URL", url, "An https address on the public internet. Saving makes a new "
      + "signing secret."),
    save, " ", remove, out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      const hook = await api("PUT", "/me/webhook", { body: { url: url.value.trim() }, signal });
      url.value = "";
      out.replaceChildren(shownOnce("Your webhook signing secret", hook.secret,
        "Your webhook's signing secret."));
      announce("Webhook saved. Its secret is shown once; copy it now.");
      await load();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      out.replaceChildren(refusal(error, { signal }));
    } finally {
      save.disabled = false;
    }
  });
  load();
  return form;
}

export async function developerView(main, _params, { signal }) {
  main.append(heading("Developer"),
    h("p", {}, "Use Objektify from your own scripts: make an API key, and let a webhook tell "
      + "you when each image is ready instead of asking again and again."),
    keysSection(signal), webhookSection(signal));
}
