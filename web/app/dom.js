// Building the page. Text from the API only ever goes in as text nodes (never parsed as HTML),
// and URLs from the API only become links when they are http(s).

const PROPERTIES = new Set(["value", "checked", "disabled", "hidden", "selected", "open"]);

/** h("p", {class: "x"}, "text", child, [more]) → an element. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (PROPERTIES.has(key)) {
      el[key] = value;
    } else if (key === "class") {
      el.className = value;
    } else if (value !== false) {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  add(el, children);
  return el;
}

/** Append children: nodes as they are, anything else as text. */
export function add(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** The URL if it is http(s), else null: API data never becomes a javascript: link. */
export function safeUrl(url) {
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return h("time", { datetime: iso }, date.toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  }));
}

/** Opaque user ids are long; people compare the first characters. */
export function shortId(id) {
  return String(id || "").slice(0, 8);
}

/** A labelled form field: the label wraps nothing, it points at the control by id. */
let fieldCount = 0;
export function field(labelText, control, hint) {
  const id = control.id || `f${++fieldCount}`;
  control.id = id;
  const parts = [h("label", { for: id }, labelText)];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("p", { class: "hint", id: hintId }, hint));
  }
  return h("div", { class: "field" }, parts[0], control, parts.slice(1));
}

export function options(values, selected) {
  return values.map(([value, label]) =>
    h("option", { value, selected: value === selected }, label));
}

/** Tell screen readers about something that changed outside the focus. */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);
}

/** A message box: role=alert for problems, status for news. */
export function notice(kind, ...children) {
  return h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
    children);
}

export function heading(text) {
  return h("h1", { tabindex: "-1" }, text);
}
