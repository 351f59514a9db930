// "Was this made here?": anyone sends an image file to /provenance/check and reads the answer,
// with the evidence that gave it (signed Content Credentials, the invisible watermark, or the
// perceptual fingerprint that survives a screenshot or a re-encode).

import { api, ApiError } from "../api.js";
import { announce, field, h, heading, notice, when } from "../dom.js";
import { refusal } from "../refusals.js";

const TYPES = ["image/png", "image/jpeg", "image/webp"];
const MAX_BYTES = 10 * 1024 * 1024;
const EVIDENCE = {
  c2pa: "its signed Content Credentials",
  watermark: "the invisible watermark in its pixels",
  fingerprint: "its perceptual fingerprint, which survives removed metadata and re-encoding",
};

function answer(result) {
  if (!result.made_here) {
    return notice("info", h("p", {}, h("strong", {}, "Not found: "),
      "nothing shows this image was made with Objektify."),
    h("p", { class: "hint" }, "An image changed heavily (cropped hard, painted over) may no "
      + "longer be recognised, so this is not proof that it was made elsewhere."));
  }
  const model = [result.model?.name, result.model?.version].filter(Boolean).join(" ");
  const facts = [h("p", {}, h("strong", {}, "Made with Objektify"),
    model ? `, with ${model}` : "", result.created_at ? [", on ", when(result.created_at)] : "",
    ".")];
  if (result.public && result.image_id) {
    facts.push(h("p", {}, h("a", { href: `#/image/${encodeURIComponent(result.image_id)}` },
      "See it in the gallery")));
  } else {
    facts.push(h("p", {}, "It is no longer in the gallery."));
  }
  facts.push(h("p", {}, "Recognised by: "),
    h("ul", { class: "evidence" }, (result.evidence || []).map((kind) =>
      h("li", { "data-evidence": kind }, EVIDENCE[kind] || kind))));
  return notice("info", facts);
}

export function checkView(main, _params, { signal }) {
  const file = h("input", { type: "file", name: "image", accept: TYPES.join(","), required: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Check");
  const result = h("div", { class: "check-result", "aria-live": "polite" });
  const form = h("form", { class: "check" },
    field("Image (PNG, JPEG or WebP, at most 10 MB)", file,
      "The image is compared and then discarded; it is not stored."),
    submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.replaceChildren();
    const chosen = file.files?.[0];
    if (!chosen) return;
    if (chosen.size > MAX_BYTES) {
      result.append(notice("error", h("p", {}, "That file is larger than 10 MB.")));
      return;
    }
    submit.disabled = true;
    result.append(h("p", { class: "loading" }, "Checking…"));
    try {
      const found = await api("POST", "/provenance/check", { file: chosen, auth: false, signal });
      result.replaceChildren(answer(found));
      announce(found.made_here ? "Made with Objektify." : "Not made with Objektify.");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      result.replaceChildren(refusal(error, { signal, ready: () => { submit.disabled = false; } }));
    } finally {
      submit.disabled = false;
    }
  });
  main.append(
    heading("Check an image"),
    h("p", {}, "Was this picture made here? Every image Objektify makes carries signed Content "
      + "Credentials (C2PA) and an invisible watermark, and its fingerprint is kept, so it can "
      + "be recognised even after its metadata is stripped, it is re-encoded or resized."),
    form, result);
}
