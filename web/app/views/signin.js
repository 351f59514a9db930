// Sign in: the local stack's development sign-in, or the Cognito hosted UI in AWS.

import { devSignIn, startHostedSignIn } from "../auth.js";
import { field, h, heading, notice } from "../dom.js";
import { go } from "../router.js";
import { consentRequired, refreshMe, session } from "../session.js";

export async function afterSignIn(returnTo) {
  await refreshMe();
  if (consentRequired()) go("#/terms");
  else go(returnTo && returnTo !== "#/sign-in" ? returnTo : "#/create");
}

function devForm(config, returnTo) {
  const username = h("input", { type: "text", name: "username", required: true,
    autocomplete: "username", pattern: "[A-Za-z0-9._\\-]{1,64}", placeholder: "alice" });
  const groups = ["moderators", "admins"].map((group) => h("input", {
    type: "checkbox", name: "groups", value: group, id: `group-${group}` }));
  const status = h("div");
  const form = h("form", { class: "sign-in" },
    notice("info", h("p", {}, "Development sign-in: this local stack issues a token for any "
      + "user name from its own user pool. Deployed sites use the Cognito hosted UI instead.")),
    field("User name", username, "Letters, digits, '.', '_' or '-'. A new name is a new user."),
    h("fieldset", {}, h("legend", {}, "Roles"),
      groups.map((box) => h("div", { class: "check" }, box,
        h("label", { for: box.id }, box.value)))),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    try {
      await devSignIn(config, username.value.trim(),
        groups.filter((box) => box.checked).map((box) => box.value));
      await afterSignIn(returnTo);
    } catch (error) {
      status.append(notice("error", h("p", {}, error.message)));
    }
  });
  return form;
}

export async function signInView(main, _params, { returnTo } = {}) {
  const config = session.config;
  main.append(heading("Sign in"));
  if (session.me) {
    main.append(notice("info", h("p", {}, "You are signed in.")));
    return;
  }
  if (config.mode === "cognito") {
    const button = h("button", { type: "button", class: "primary" }, "Sign in or create an account");
    button.addEventListener("click", () => startHostedSignIn(config));
    main.append(h("p", {}, "You will continue on the Objektify sign-in page and come back here."),
      button);
    return;
  }
  main.append(devForm(config, returnTo));
}
