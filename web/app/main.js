// The shell: loads the config, finishes a hosted sign-in, draws the navigation and the banner,
// and shows the screen the URL names, checking who may see it. While signed in, the page keeps
// its live socket open, and a decision pushed about the user shows a notice linking to it.

import { signOut, completeHostedSignIn } from "./auth.js";
import { h, notice } from "./dom.js";
import { closeLive, onLiveDecision, openLive } from "./live.js";
import { refusal } from "./refusals.js";
import { go, match, rerender, route, startRouter } from "./router.js";
import {
  consentRequired, hasRole, loadConfig, onSessionChange, refreshMe, session, signedIn, signedOut,
} from "./session.js";
import { accountView } from "./views/account.js";
import { adminView } from "./views/admin.js";
import { auditView } from "./views/audit.js";
import { checkView } from "./views/check.js";
import { createView } from "./views/create.js";
import { appealsView, DECISIONS, decisionsView } from "./views/decisions.js";
import { developerView } from "./views/developer.js";
import { creatorView, galleryView } from "./views/gallery.js";
import { imageView } from "./views/image.js";
import { mineView } from "./views/mine.js";
import { noticeStatusView } from "./views/notices.js";
import { moderationView } from "./views/moderation.js";
import { signInView } from "./views/signin.js";
import { privacyView, termsView } from "./views/terms.js";
import { transparencyView } from "./views/transparency.js";

route("/", galleryView, { title: "Gallery", nav: "/" });
route("/image/:id", imageView, { title: "Image", nav: "/" });
route("/users/:id", creatorView, { title: "Creator", nav: "/" });
route("/notices/:token", noticeStatusView, { title: "Your notice", nav: "/" });
route("/privacy", privacyView, { title: "Privacy Policy", nav: "/terms" });
route("/check", checkView, { title: "Check an image", nav: "/check" });
route("/transparency", transparencyView, { title: "Transparency", nav: "/transparency" });
route("/terms", termsView, { title: "Terms of Service", nav: "/terms" });
route("/sign-in", signInView, { title: "Sign in" });
route("/create", createView, { title: "Create", nav: "/create", needs: "user" });
route("/mine", mineView, { title: "My images", nav: "/mine", needs: "user" });
route("/moderation", moderationView, { title: "Moderation", nav: "/moderation",
  needs: "moderators" });
route("/appeals", appealsView, { title: "Appeals", nav: "/moderation", needs: "moderators" });
route("/decisions", decisionsView, { title: "My decisions", nav: "/decisions", needs: "user" });
route("/audit", auditView, { title: "Audit log", nav: "/moderation", needs: "moderators" });
route("/admin", adminView, { title: "Operations", nav: "/admin", needs: "admins" });
route("/account", accountView, { title: "Account", nav: "/account", needs: "user" });
route("/developer", developerView, { title: "Developer", nav: "/account", needs: "user" });

const main = document.getElementById("main");
let current = null; // the AbortController of the screen on show
let meCheckedAt = 0;
const PROMPTED_KEY = "objektify.terms-prompted";

function navigation(active) {
  const items = [["/", "Gallery"]];
  if (signedIn()) {
    items.push(["/create", "Create"], ["/mine", "My images"], ["/decisions", "My decisions"]);
  }
  if (hasRole("moderators")) items.push(["/moderation", "Moderation"]);
  if (hasRole("admins")) items.push(["/admin", "Operations"]);
  items.push(["/check", "Check an image"], ["/terms", "Terms"], ["/transparency", "Transparency"]);
  if (signedIn()) items.push(["/account", "Account"]);
  const links = items.map(([path, label]) => h("li", {}, h("a", {
    href: `#${path}`, "aria-current": path === active ? "page" : null }, label)));
  if (signedIn()) {
    const out = h("button", { type: "button", class: "link" }, "Sign out");
    out.addEventListener("click", () => {
      if (!signOut(session.config)) {
        signedOut();
        go("#/");
      }
    });
    links.push(h("li", {}, out));
  } else {
    links.push(h("li", {}, h("a", { href: "#/sign-in",
      "aria-current": active === "/sign-in" ? "page" : null }, "Sign in")));
  }
  document.getElementById("nav").replaceChildren(...links);
}

function banner() {
  const box = document.getElementById("banner");
  box.replaceChildren();
  const me = session.me;
  if (!me) return;
  if (me.status !== "active") {
    box.append(notice("error", h("p", {}, `Your account is ${me.status}: you can browse, `
      + "but not create, accept terms or report. ", h("a", { href: "#/decisions" },
      "Why, and how to appeal"))));
  } else if (consentRequired() && location.hash !== "#/terms") {
    const what = me.consent.accepted_version ? "The Terms of Service have been revised."
      : "Accept the Terms of Service to start creating your images.";
    box.append(notice("info", h("p", {}, `${what} `, h("a", { href: "#/terms" },
      "Read the terms"))));
  }
}

// Decisions pushed over the socket: a notice that stays across screens until followed or
// dismissed. A push can come twice (the stream delivers at least once): told once.
const liveNotice = h("div", { id: "live-notice" });
const told = new Set();

function decisionNotice(decision) {
  const appeal = decision.appeal;
  if (appeal?.status === "open") return; // the user's own appeal, just filed
  const key = `${decision.id}:${appeal?.status || ""}`;
  if (told.has(key)) return;
  told.add(key);
  const what = appeal?.status === "decided"
    ? DECISIONS[appeal.outcome === "reversed" ? "decision_reversed" : "decision_upheld"]
    : DECISIONS[decision.decision] || "A decision about your content or account";
  const link = h("a", { href: "#/decisions" },
    decision.how_to_appeal && !appeal ? "Read the decision and how to appeal" : "Read the decision");
  const dismiss = h("button", { type: "button", class: "link" }, "Dismiss");
  link.addEventListener("click", () => {
    liveNotice.replaceChildren();
    if (location.hash === "#/decisions") rerender();
  });
  dismiss.addEventListener("click", () => liveNotice.replaceChildren());
  const box = notice("info", h("p", {}, `New decision: ${what}. `, link, " ", dismiss));
  box.dataset.decision = decision.id;
  liveNotice.replaceChildren(box);
  refreshMe(); // a suspension, or one lifted, changes what the page offers
}

/** The terms come first: once per session and version, a signed-in person is taken there. */
function termsFirst(entry) {
  if (!consentRequired()) return false;
  const version = String(session.me.consent.current_version);
  const prompted = sessionStorage.getItem(PROMPTED_KEY) === version;
  sessionStorage.setItem(PROMPTED_KEY, version);
  if (prompted || ["/terms", "/account", "/decisions"].includes(entry.nav)) return false;
  go("#/terms");
  return true;
}

async function show(initial) {
  current?.abort();
  current = new AbortController();
  const { signal } = current;
  if (Date.now() - meCheckedAt > 15_000 || initial) {
    meCheckedAt = Date.now();
    await refreshMe();
  }
  if (signedIn()) openLive(); // the page's one socket; decisions arrive on it
  if (signal.aborted) return;
  const found = match(location.hash);
  if (!found) {
    go("#/");
    return;
  }
  const { entry, params } = found;
  if (signedIn() && termsFirst(entry)) return;
  navigation(entry.nav || location.hash.slice(1));
  banner();
  document.title = `${entry.title} · Objektify`;
  main.replaceChildren();
  main.setAttribute("aria-busy", "true");
  try {
    if (entry.needs && !signedIn()) {
      main.append(notice("info", h("p", {}, "Sign in to see this page.")));
      await signInView(main, {}, { signal, returnTo: location.hash });
    } else if (entry.needs && entry.needs !== "user" && !hasRole(entry.needs)) {
      main.append(h("h1", { tabindex: "-1" }, entry.title),
        notice("error", h("p", {}, `This page is for ${entry.needs}.`)));
    } else {
      await entry.view(main, params, { signal });
    }
  } catch (error) {
    if (error.name === "AbortError" || signal.aborted) return;
    main.append(refusal(error, { signal }));
  } finally {
    main.removeAttribute("aria-busy");
  }
  if (!initial && !signal.aborted) (main.querySelector("h1") || main).focus();
}

async function boot() {
  const config = await loadConfig();
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  document.getElementById("banner").after(liveNotice);
  onLiveDecision(decisionNotice);
  onSessionChange(() => {
    navigation(match(location.hash)?.entry.nav);
    banner();
    if (!signedIn()) {
      closeLive();
      liveNotice.replaceChildren();
    }
  });
  try {
    if (config.mode === "cognito") await completeHostedSignIn(config);
  } catch (error) {
    document.getElementById("banner").after(notice("error", h("p", {}, error.message)));
  }
  startRouter(show);
  // Installable, and the shell opens offline (web/sw.js); the API is never cached.
  navigator.serviceWorker?.register("/sw.js").catch(() => {});
}

boot();
