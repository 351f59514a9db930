// Create: a prompt becomes an image. After submitting, the generation is followed through every
// state (queued → scanning → published / in review / rejected / failed) until it settles: pushed
// over the page's WebSocket, or polled (with backoff) when no socket can be opened or it closes.

import { api, ApiError, pause } from "../api.js";
import { announce, field, h, heading, notice, options, safeUrl } from "../dom.js";
import { categoryText, refusal } from "../refusals.js";
import { followLive, openLive } from "../live.js";
import { hashQuery } from "../router.js";
import { consentRequired, refreshMe, session } from "../session.js";
import { pictureSection } from "./picture.js";

const SIZES = [
  ["512x512", "Square, 512 × 512"],
  ["768x768", "Square, 768 × 768"],
  ["1024x1024", "Square, 1024 × 1024"],
  ["768x512", "Landscape, 768 × 512"],
  ["512x768", "Portrait, 512 × 768"],
  ["1024x768", "Landscape, 1024 × 768"],
  ["768x1024", "Portrait, 768 × 1024"],
];
// diffusers' schedulers the model offers, as the API names them.
const SCHEDULERS = [
  ["euler", "Euler"],
  ["euler_a", "Euler ancestral"],
  ["dpmpp_2m", "DPM++ 2M"],
  ["ddim", "DDIM"],
];
const COUNTS = [["1", "1 image"], ["2", "2 images"], ["3", "3 images"], ["4", "4 images"]];
const DEFAULT_GUIDANCE = 7.5;
const STEPS = [
  ["queued", "Queued", "Waiting for the model, then painting."],
  ["scanning", "Checking", "An automatic check looks at the image before anyone sees it."],
  ["done", "Done", ""],
];
const FINAL = new Set(["published", "in_review", "rejected", "failed", "removed"]);

function outcome(generation) {
  switch (generation.status) {
    case "published": {
      const link = `#/image/${encodeURIComponent(generation.image?.id || generation.id)}`;
      return h("div", { class: "result" },
        h("img", { src: safeUrl(generation.image?.image_url), alt: generation.prompt,
          width: generation.width, height: generation.height }),
        notice("info", h("p", {}, "Published. ", h("a", { href: link }, "Open its gallery page"),
          " to download or share it.")));
    }
    case "in_review":
      return notice("info", h("p", {}, "The automatic check was unsure, so a moderator will look "
        + "at this image before it is published. You will see the outcome in My images."));
    case "rejected":
      return notice("error", h("p", {}, `The image was not published: it showed ${
        categoryText(generation.category)}. This counts against your account.`));
    case "removed":
      return notice("error", h("p", {}, "This image was removed."));
    default:
      return notice("error", h("p", {}, generation.error?.message
        || "The model could not paint this image; try again."));
  }
}

function progress(generation) {
  const reached = { queued: 0, scanning: 1 }[generation.status] ?? 2;
  return h("ol", { class: "steps" }, STEPS.map(([key, label, hint], index) => h("li", {
    class: index < reached ? "step done" : index === reached ? "step current" : "step",
    "aria-current": index === reached ? "step" : null,
  }, h("strong", {}, index === 2 && reached === 2 ? statusLabel(generation.status) : label),
  hint && index === reached ? h("span", { class: "hint" }, ` ${hint}`) : null)));
}

export function statusLabel(status) {
  return {
    queued: "Queued", scanning: "Checking", published: "Published", in_review: "In review",
    rejected: "Rejected", failed: "Failed", removed: "Removed",
  }[status] || status;
}

async function follow(id, panel, signal, first = null) {
  let last = null;
  let settled = false;
  const started = Date.now();
  // Shows a state once (a repeated one changes nothing); true once it is final.
  const show = (generation) => {
    if (settled) return true;
    if (generation.status !== last) {
      last = generation.status;
      panel.replaceChildren(h("h2", {}, "Your image"), h("p", { class: "prompt" },
        generation.prompt), progress(generation));
      announce(statusLabel(generation.status));
    }
    if (FINAL.has(generation.status)) {
      panel.append(outcome(generation));
      settled = true;
    }
    return settled;
  };
  if (first && show(first)) return;
  const live = await openLive();
  if (live && !signal.aborted) {
    const pushed = await new Promise((resolve) => {
      const stop = followLive(id, (generation) => {
        if (show(generation)) {
          stop();
          resolve(true);
        }
      }, () => resolve(false));
      signal.addEventListener("abort", () => {
        stop();
        resolve(true);
      }, { once: true });
    });
    if (pushed) return;
  }
  let delay = 400;
  while (!signal.aborted) {
    let generation;
    try {
      generation = await api("GET", `/generations/${encodeURIComponent(id)}`, { signal });
    } catch (error) {
      if (error.name === "AbortError") return;
      panel.replaceChildren(refusal(error, { signal }));
      return;
    }
    if (show(generation)) return;
    if (Date.now() - started > 10 * 60 * 1000) {
      panel.append(notice("info", h("p", {}, "Still working. It will appear in My images.")));
      return;
    }
    await pause(delay, signal);
    delay = Math.min(delay * 1.5, 3000);
  }
}

/** The published image a restyle starts from (`#/create?restyle=ID`), or null. */
async function restyleSource(signal) {
  const id = hashQuery().get("restyle");
  if (!id) return null;
  return api("GET", `/gallery/${encodeURIComponent(id)}`, { auth: false, signal });
}

/** The published image a remix starts from (`#/create?remix=ID`), or null. */
async function remixSource(signal) {
  const id = hashQuery().get("remix");
  if (!id) return null;
  return api("GET", `/gallery/${encodeURIComponent(id)}`, { auth: false, signal });
}

// Image-to-image without a size: the service paints an upload at the preset shape nearest its
// own and a restyle at its source's size (a prompt alone at 512 x 512).
const PICTURE_SIZE = ["picture", "As the starting picture"];

function sizeChoices(source) {
  const choices = source ? [...SIZES] : [...SIZES, PICTURE_SIZE];
  const own = source && `${source.width}x${source.height}`;
  if (own && !choices.some(([value]) => value === own)) {
    choices.push([own, `As the original, ${source.width} × ${source.height}`]);
  }
  return choices;
}

export async function createView(main, _params, { signal }) {
  const source = await remixSource(signal);
  const restyle = source ? null : await restyleSource(signal);
  main.append(heading(source ? "Remix an image" : "Create an image"));
  openLive(); // before any submit, so that no state of what it makes is missed
  if (consentRequired()) {
    main.append(notice("info", h("p", {}, "Accept the Terms of Service to start creating. ",
      h("a", { href: "#/terms" }, "Read the terms"), ".")));
  }
  if (source) {
    main.append(notice("info", h("p", {}, "Starting from ",
      h("a", { href: `#/image/${encodeURIComponent(source.id)}` }, "this image"),
      ": its prompt and settings are filled in below. Change anything; the new image will "
      + "link back to it.")));
  }
  const prompt = h("textarea", { name: "prompt", rows: 3, required: true, maxlength: 2000 },
    source?.prompt || "");
  const negative = h("textarea", { name: "negative_prompt", rows: 2, maxlength: 2000 },
    source?.negative_prompt || "");
  const size = h("select", { name: "size" }, options(sizeChoices(source),
    source ? `${source.width}x${source.height}` : restyle ? PICTURE_SIZE[0] : "512x512"));
  const seed = h("input", { name: "seed", type: "number", min: 0, max: 4294967295, step: 1,
    inputmode: "numeric", value: source?.seed ?? "" });
  const guidance = h("input", { name: "guidance_scale", type: "range", min: 1, max: 20,
    step: 0.5, value: source?.guidance_scale ?? DEFAULT_GUIDANCE });
  const guidanceShown = h("output", { for: "guidance" }, String(guidance.value));
  guidance.id = "guidance";
  guidance.addEventListener("input", () => { guidanceShown.textContent = guidance.value; });
  const scheduler = h("select", { name: "scheduler" }, options(SCHEDULERS,
    source?.scheduler || "euler"));
  const steps = h("input", { name: "steps", type: "number", min: 1, max: 50, step: 1,
    inputmode: "numeric", value: source?.steps ?? "" });
  const count = h("select", { name: "n" }, options(COUNTS, "1"));
  const picture = pictureSection({ signal, restyle });
  const submit = h("button", { type: "submit", class: "primary" },
    source ? "Create the remix" : "Create");
  const messages = h("div", { class: "messages" });
  const panel = h("section", { class: "progress" });
  const form = h("form", { class: "create", novalidate: true },
    field("Prompt", prompt, "Describe the image: subject, style, light."),
    field("Negative prompt (optional)", negative, "What the image should not show."),
    source ? null : picture.element,
    h("div", { class: "row" }, field("Size", size, source ? undefined
      : "Starting from a picture: keep its shape, or choose a size."), field("How many", count,
      "Each with the next seed; each counts towards your limit.")),
    h("div", { class: "row" },
      field("Seed (optional)", seed, "The same seed, prompt and settings paint the same image."),
      field("Steps (optional)", steps, "More steps: finer detail, slower. 1 to 50.")),
    h("details", { class: "advanced", open: Boolean(source) },
      h("summary", {}, "More settings"),
      h("div", { class: "row" },
        h("div", { class: "field" }, h("label", { for: "guidance" }, "Guidance ",
          guidanceShown), guidance, h("p", { class: "hint" },
          "How closely the image follows the prompt, 1 to 20.")),
        field("Scheduler", scheduler, "How the model removes noise, step by step."))),
    submit, messages);
  // One Idempotency-Key per request until the API answers it: resending after a lost answer
  // creates nothing new.
  let key = null;
  // Choosing a picture makes the size follow it, unless the person chose a size themselves.
  let sizeChosen = Boolean(source);
  size.addEventListener("change", () => { sizeChosen = true; });
  form.addEventListener("change", (event) => {
    if (event.target.name === "picture" && !sizeChosen) size.value = PICTURE_SIZE[0];
  });
  let lastBody = "";
  let following = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    messages.replaceChildren();
    for (const control of form.elements) control.removeAttribute("aria-invalid");
    const body = { prompt: prompt.value };
    if (size.value !== PICTURE_SIZE[0]) {
      [body.width, body.height] = size.value.split("x").map(Number);
    }
    // The defaults are the service's own; a remix sends all (the source's values are its own).
    if (source || Number(guidance.value) !== DEFAULT_GUIDANCE) {
      body.guidance_scale = Number(guidance.value);
    }
    if (source || scheduler.value !== SCHEDULERS[0][0]) body.scheduler = scheduler.value;
    if (negative.value.trim()) body.negative_prompt = negative.value;
    if (seed.value !== "") body.seed = Number(seed.value);
    if (steps.value !== "") body.steps = Number(steps.value);
    if (count.value !== "1") body.n = Number(count.value);
    if (source) body.remix_of = source.id;
    const chosen = source ? null : picture.choice();
    if (chosen?.error) {
      messages.append(notice("error", h("p", {}, chosen.error)));
      return;
    }
    if (chosen) Object.assign(body, chosen);
    const text = JSON.stringify(body);
    if (!key || text !== lastBody) key = crypto.randomUUID();
    lastBody = text;
    submit.disabled = true;
    try {
      const created = await api("POST", "/generations", {
        body, headers: { "Idempotency-Key": key }, signal,
      });
      key = null;
      submit.disabled = false;
      // Accepted: whatever restriction or missing consent we knew of is over.
      if (session.me?.status !== "active" || consentRequired()) refreshMe();
      following?.abort();
      following = new AbortController();
      signal.addEventListener("abort", () => following.abort(), { once: true });
      const ids = created.batch?.length ? created.batch : [created.id];
      panel.replaceChildren(...ids.map((id) => {
        const one = h("div", { class: "one" });
        follow(id, one, following.signal, id === created.id ? created : null);
        return one;
      }));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status !== 0) key = null;
      for (const name of Object.keys(error.details || {})) {
        const control = ["width", "height", "aspect"].includes(name) ? size
          : form.elements.namedItem(name);
        control?.setAttribute?.("aria-invalid", "true");
      }
      if (error.code === "consent_required" || error.code === "account_restricted") {
        refreshMe();
      }
      messages.append(refusal(error, { signal, ready: () => { submit.disabled = false; } }));
      submit.disabled = error.code === "rate_limited";
    }
  });
  main.append(form, panel);
}
