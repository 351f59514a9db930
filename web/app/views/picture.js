// "Start from a picture" on the create view: the rights statement, the file, its upload straight
// to storage (POST /uploads gives a presigned POST; the bytes never pass through the API), the
// scan's state (polled with backoff), and the strength. A restyle starts from a published image
// instead (`#/create?restyle=ID`): no upload, only the strength.

import { api, ApiError, pause } from "../api.js";
import { h, notice } from "../dom.js";
import { categoryText, refusal } from "../refusals.js";

const TYPES = ["image/png", "image/jpeg", "image/webp"];
const MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_STRENGTH = 0.6;
const SCAN_LABELS = {
  pending: "Waiting for the check",
  scanning: "Checking the picture",
  ready: "Ready: the picture passed the check",
  rejected: "Refused",
};

/** POSTs `fields` and `file` to `url`, reporting progress (0..1); resolves on a 2xx answer. */
function postToStorage(url, fields, file, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append("file", file); // last: storage ignores fields after the file
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new ApiError(xhr.status, { code: "upload_failed",
        message: "The picture could not be stored (its type or size was refused). Try another." }));
    };
    xhr.onerror = () => reject(new ApiError(0, { code: "network_error",
      message: "The picture could not be sent. Check the connection and try again." }));
    xhr.onabort = () => reject(new DOMException("Aborted", "AbortError"));
    signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

function rejectedText(reason) {
  if (reason === "invalid_file") {
    return "This file cannot be used: it is not a PNG, JPEG or WebP picture this service can read. "
      + "Choose another picture.";
  }
  if (reason === "scan_failed") {
    return "This picture could not be checked just now. Choose it again in a few minutes.";
  }
  const what = reason ? categoryText(reason) : "something this service cannot accept";
  return `This picture cannot be used: the check found ${what}. Choose another picture.`;
}

/**
 * The "Start from a picture" part of the create form. `restyle` is a published image to start
 * from instead of an upload. Returns {element, choice()}: choice() is null when no picture is
 * chosen, {error} while one is not ready, or {init_image, strength} to send.
 */
export function pictureSection({ signal, restyle = null }) {
  const strength = h("input", { id: "strength", name: "strength", type: "range", min: 0.05,
    max: 1, step: 0.05, value: DEFAULT_STRENGTH, "aria-describedby": "strength-hint" });
  const strengthShown = h("output", { for: "strength" }, String(strength.value));
  strength.addEventListener("input", () => { strengthShown.textContent = strength.value; });
  const strengthField = h("div", { class: "field" },
    h("label", { for: "strength" }, "Strength ", strengthShown), strength,
    h("p", { class: "hint", id: "strength-hint" },
      "How much the new image departs from the picture: 0.05 keeps it almost as it is, 1 repaints "
      + "it freely."));
  if (restyle) {
    const element = h("fieldset", { class: "picture" }, h("legend", {}, "Start from a picture"),
      h("p", {}, "Restyling ", h("a", { href: `#/image/${encodeURIComponent(restyle.id)}` },
        "this image"), ": describe the new style in the prompt."), strengthField);
    return { element, choice: () => ({ init_image: restyle.id, strength: Number(strength.value) }) };
  }

  let state = { status: "none" }; // none | uploading | pending | scanning | ready | rejected | failed
  let running = null;
  const own = h("input", { type: "radio", name: "rights", value: "own", id: "rights-own",
    checked: true });
  const licensed = h("input", { type: "radio", name: "rights", value: "licensed",
    id: "rights-licensed" });
  const attest = h("input", { type: "checkbox", name: "attest", id: "attest" });
  const file = h("input", { type: "file", name: "picture", id: "picture",
    accept: TYPES.join(","), "aria-describedby": "picture-hint" });
  const bar = h("progress", { max: 1, value: 0, id: "picture-progress", hidden: true,
    "aria-label": "Upload progress" });
  const status = h("p", { class: "upload-state", role: "status" });
  const messages = h("div", { class: "messages" });

  const show = (next, text) => {
    state = next;
    status.textContent = text; // role=status: read out as it changes
  };

  async function start() {
    messages.replaceChildren();
    running?.abort();
    running = null;
    bar.hidden = true;
    show({ status: "none" }, "");
    const chosen = file.files?.[0];
    if (!chosen) return;
    if (!TYPES.includes(chosen.type)) {
      file.setAttribute("aria-invalid", "true");
      messages.append(notice("error", h("p", {}, "Choose a PNG, JPEG or WebP picture.")));
      return;
    }
    if (chosen.size > MAX_BYTES) {
      file.setAttribute("aria-invalid", "true");
      messages.append(notice("error", h("p", {}, `This picture is ${
        (chosen.size / 1024 / 1024).toFixed(1)} MB; pictures may be at most 10 MB.`)));
      return;
    }
    file.removeAttribute("aria-invalid");
    if (!attest.checked) {
      show({ status: "none" }, "Tick the statement above to upload the picture.");
      return;
    }
    const controller = new AbortController();
    running = controller;
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    try {
      const rights = licensed.checked ? "licensed" : "own";
      const created = await api("POST", "/uploads", {
        body: { rights, attest: true, content_type: chosen.type }, signal: controller.signal,
      });
      bar.value = 0;
      bar.hidden = false;
      show({ status: "uploading" }, "Uploading the picture…");
      await postToStorage(created.url, created.fields || {}, chosen, (part) => {
        bar.value = part;
      }, controller.signal);
      bar.value = 1;
      show({ status: "pending", id: created.upload_id }, "Uploaded. Waiting for the check…");
      let delay = 500;
      while (!controller.signal.aborted) {
        const upload = await api("GET", `/uploads/${encodeURIComponent(created.upload_id)}`,
          { signal: controller.signal });
        if (upload.status === "ready") {
          show({ status: "ready", id: created.upload_id }, SCAN_LABELS.ready);
          return;
        }
        if (upload.status === "rejected") {
          show({ status: "rejected", id: created.upload_id }, SCAN_LABELS.rejected);
          messages.append(notice("error", h("p", {}, rejectedText(upload.reason))));
          return;
        }
        show({ status: upload.status, id: created.upload_id },
          `${SCAN_LABELS[upload.status] || "Checking the picture"}…`);
        await pause(delay, controller.signal);
        delay = Math.min(delay * 1.5, 4000);
      }
    } catch (error) {
      if (error.name === "AbortError") return;
      if (!(error instanceof ApiError)) throw error;
      bar.hidden = true;
      show({ status: "failed" }, "");
      messages.append(refusal(error, { signal }));
    }
  }

  file.addEventListener("change", start);
  attest.addEventListener("change", () => {
    if (attest.checked && state.status === "none" && file.files?.length) start();
  });

  const element = h("fieldset", { class: "picture" },
    h("legend", {}, "Start from a picture (optional)"),
    h("fieldset", { class: "rights" }, h("legend", {}, "This picture is"),
      h("div", {}, own, h("label", { for: "rights-own" }, " my own work")),
      h("div", {}, licensed, h("label", { for: "rights-licensed" },
        " someone else's, and I have a licence to use it"))),
    h("div", {}, attest, h("label", { for: "attest" }, " I may use this picture, and it shows "
      + "no one who has not consented to it.")),
    h("div", { class: "field" }, h("label", { for: "picture" }, "Picture"), file,
      h("p", { class: "hint", id: "picture-hint" }, "PNG, JPEG or WebP, at most 10 MB. It is "
        + "checked before use, seen only by you (and moderators), and deleted after 30 days "
        + "unless an image is made from it.")),
    bar, status, messages, strengthField);

  return {
    element,
    choice() {
      if (state.status === "none" && !file.files?.length) return null;
      if (state.status === "ready") {
        return { init_image: state.id, strength: Number(strength.value) };
      }
      if (!attest.checked) {
        return { error: "Tick the statement about the picture, or remove the picture." };
      }
      return { error: "The picture is not ready yet: wait for the check to finish, or choose "
        + "another." };
    },
  };
}
