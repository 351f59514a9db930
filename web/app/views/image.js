// One published image: the picture, its prompt, creator and date, how it was made, like,
// remix, download, report, delete, and more from the same creator.

import { api, apiUrl, ApiError } from "../api.js";
import { announce, field, h, heading, notice, options, safeUrl, when } from "../dom.js";
import { refusal } from "../refusals.js";
import { go } from "../router.js";
import { consentRequired, hasRole, session, signedIn } from "../session.js";
import { creatorLabel, imageGrid, likesText } from "./gallery.js";
import { noticeForm } from "./notices.js";

export const REPORT_REASONS = [
  ["sexual", "Sexual content"],
  ["violent", "Violence or gore"],
  ["hateful", "Hate or harassment"],
  ["illegal", "Illegal content"],
  ["copyright", "Copyright infringement"],
  ["privacy", "Privacy (a real person)"],
  ["other", "Something else"],
];

function reportForm(image, signal) {
  const reason = h("select", { name: "reason", required: true },
    h("option", { value: "" }, "Choose a reason…"), options(REPORT_REASONS));
  const note = h("textarea", { name: "note", rows: 2, maxlength: 1000 });
  const status = h("div");
  const form = h("form", { class: "report", "aria-labelledby": "report-title" },
    h("h2", { id: "report-title" }, "Report this image"),
    field("Reason", reason),
    field("Note for the moderators (optional)", note),
    h("button", { type: "submit" }, "Send report"),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const body = { reason: reason.value };
    if (note.value.trim()) body.note = note.value.trim();
    try {
      const receipt = await api("POST", `/gallery/${encodeURIComponent(image.id)}/reports`,
        { body, signal });
      form.replaceChildren(notice("info", h("p", {}, receipt?.counted === false
        ? "You had already reported this image; moderators have your report."
        : "Thank you. Your report was received and moderators will look at it.")));
      announce("Report sent.");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status.append(refusal(error, { signal }));
    }
  });
  return form;
}

function deleteControl(image, signal) {
  const box = h("div", { class: "danger-zone" });
  const ask = h("button", { type: "button", class: "danger" }, "Delete this image");
  ask.addEventListener("click", () => {
    const yes = h("button", { type: "button", class: "danger" }, "Delete");
    const no = h("button", { type: "button" }, "Keep it");
    no.addEventListener("click", () => { box.replaceChildren(ask); ask.focus(); });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await api("DELETE", `/gallery/${encodeURIComponent(image.id)}`, { signal });
        announce("The image was deleted.");
        go("#/mine");
      } catch (error) {
        box.append(refusal(error, { signal }));
        yes.disabled = false;
      }
    });
    box.replaceChildren(h("p", {}, "Delete it from the gallery for good?"), yes, " ", no);
    yes.focus();
  });
  box.append(ask);
  return box;
}

/** The signed C2PA manifest the downloads carry, as the detail describes it. */
function credentials(image) {
  const signed = image.content_credentials;
  if (!signed) return null;
  const model = [signed.model?.name, signed.model?.version].filter(Boolean).join(" ");
  return [h("dt", {}, "Content Credentials"),
    h("dd", { class: "credentials" }, `signed by ${signed.signed_by}`
      + (model ? `, made with ${model}` : ""), " ",
      h("a", { href: "#/check" }, "Check an image"))];
}

function modelText(model) {
  if (!model) return "";
  if (typeof model === "string") return model;
  return [model.name, model.version].filter(Boolean).join(" ");
}

/** Everything needed to paint the same image again. */
function parameters(image) {
  const rows = [
    ["Negative prompt", image.negative_prompt],
    ["Steps", image.steps],
    ["Seed", image.seed],
    ["Guidance", image.guidance_scale],
    ["Scheduler", image.scheduler],
    ["Model", modelText(image.model)],
  ].filter(([, value]) => value !== undefined && value !== null && value !== "");
  return rows.map(([label, value]) => [h("dt", {}, label), h("dd", {}, String(value))]);
}

function lineage(image) {
  const parts = [];
  if (image.remix_of) {
    parts.push(h("dt", {}, "Remix of"), h("dd", {}, h("a", {
      href: `#/image/${encodeURIComponent(image.remix_of)}` }, "the original image")));
  }
  if (image.remixes) {
    parts.push(h("dt", {}, "Remixes"), h("dd", {}, String(image.remixes)));
  }
  return parts;
}

/** Like and unlike: a toggle button with the count; signed-in people only. */
function likeControl(image, signal) {
  let liked = Boolean(image.liked_by_me);
  let count = Number(image.likes) || 0;
  const shown = h("span", { class: "like-count" });
  const button = h("button", { type: "button", class: "like" });
  const status = h("span");
  const draw = () => {
    button.textContent = liked ? "♥ Liked" : "♡ Like";
    button.setAttribute("aria-pressed", String(liked));
    shown.textContent = likesText(count);
  };
  draw();
  if (!signedIn()) return h("span", { class: "likes-line" }, shown);
  button.addEventListener("click", async () => {
    status.replaceChildren();
    button.disabled = true;
    try {
      await api(liked ? "DELETE" : "PUT", `/gallery/${encodeURIComponent(image.id)}/like`,
        { signal });
      count += liked ? -1 : 1;
      liked = !liked;
      draw();
      announce(liked ? "Liked." : "Like taken back.");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status.append(refusal(error, { signal }));
    } finally {
      button.disabled = false;
    }
  });
  return h("span", { class: "likes-line" }, button, " ", shown, status);
}

export async function imageView(main, params, { signal }) {
  const id = encodeURIComponent(params.id);
  // Signed in, the detail also says whether the caller liked it (and is then not cached).
  const image = await api("GET", `/gallery/${id}`, {
    auth: signedIn(), fresh: true, signal,
  });
  const creator = image.creator;
  const mine = session.me?.user_id === creator;
  main.append(
    heading(mine ? "Your image" : `Image by ${creatorLabel(image)}`),
    h("figure", { class: "artwork" },
      h("img", {
        src: safeUrl(image.image_url), alt: image.prompt, width: image.width, height: image.height,
      }),
      h("figcaption", {}, h("p", { class: "prompt" }, image.prompt))),
    h("dl", { class: "facts" },
      h("dt", {}, "Creator"),
      h("dd", {}, h("a", { href: `#/users/${encodeURIComponent(creator)}` },
        mine ? (image.creator_name ? `you (${image.creator_name})` : "you")
          : creatorLabel(image))),
      h("dt", {}, "Created"), h("dd", {}, when(image.created_at)),
      h("dt", {}, "Size"), h("dd", {}, `${image.width} × ${image.height}`),
      parameters(image),
      lineage(image),
      credentials(image)),
    h("p", { class: "actions" },
      likeControl(image, signal),
      signedIn() && !consentRequired() ? h("a", { class: "button",
        href: `#/create?remix=${id}` }, "Remix") : null,
      signedIn() && !consentRequired() ? h("a", { class: "button",
        href: `#/create?restyle=${id}` }, "Restyle") : null,
      h("a", { class: "button primary", href: apiUrl(`/gallery/${id}/download`),
        download: "" }, "Download PNG"),
      " ",
      h("span", { class: "hint" }, "Full size, with signed Content Credentials marking it as AI-generated.")));
  if (!session.me) {
    main.append(h("p", {}, h("a", { href: "#/sign-in" }, "Sign in"), " to report this image, "
      + "or send a notice below without an account."));
  } else if (!mine) {
    main.append(reportForm(image, signal));
  }
  if (!mine) main.append(noticeForm(image, signal));
  if (mine || hasRole("moderators")) main.append(deleteControl(image, signal));
  main.append(h("section", { "aria-labelledby": "more-title" },
    h("h2", { id: "more-title" }, mine ? "Your other images" : "More from this creator"),
    imageGrid(`/users/${encodeURIComponent(creator)}/gallery`, {
      signal, limit: 12, empty: "No other images yet.", skip: (item) => item.id === image.id,
    })));
}
