// The public transparency report: what was notified, decided and appealed in a period.

import { api } from "../api.js";
import { field, h, heading } from "../dom.js";

const LABELS = {
  content_removed: "Images removed",
  account_suspended: "Accounts suspended",
  account_terminated: "Accounts terminated",
  terms: "Terms of Service",
  illegal: "Illegal content",
  own_initiative: "Our own checks",
  report: "Users' reports",
  notice: "Notices",
};

function table(caption, counts) {
  const rows = Object.entries(counts || {});
  return h("table", { class: "counts" },
    h("caption", {}, caption),
    h("tbody", {}, rows.length ? rows.map(([key, value]) => h("tr", {},
      h("th", { scope: "row" }, LABELS[key] || key), h("td", {}, String(value))))
      : h("tr", {}, h("td", { colspan: 2 }, "none"))));
}

function counts(report) {
  const d = report.decisions;
  return h("div", { class: "report", "aria-live": "polite" },
    h("p", {}, `From ${report.from} to ${report.to}: ${report.notices.total} notices, `
      + `${d.total} decisions (${d.automated_decision} decided automatically), `
      + `${report.appeals.received} appeals received, ${report.appeals.upheld} upheld, `
      + `${report.appeals.reversed} reversed.`),
    h("p", {}, "Median time from a notice to its decision: ",
      report.median_hours_notice_to_decision === null ? "no notice decided"
        : `${report.median_hours_notice_to_decision} hours`, "."),
    table("Notices by category", report.notices.by_category),
    table("Decisions by kind", d.by_decision),
    table("Decisions by ground", d.by_ground),
    table("Decisions by category", d.by_category),
    table("What started them", d.by_source),
    table("Accounts", report.accounts));
}

export async function transparencyView(main, _params, { signal }) {
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  const from = h("input", { type: "date", name: "from", value: monthAgo });
  const to = h("input", { type: "date", name: "to", value: today });
  const out = h("div");
  const load = async () => {
    const report = await api("GET", "/transparency/report",
      { query: { from: from.value, to: to.value }, auth: false, signal });
    out.replaceChildren(counts(report));
  };
  const form = h("form", { class: "period" }, field("From", from), field("To", to),
    h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  main.append(heading("Transparency report"),
    h("p", { class: "lead" }, "What people notified us of, what we decided and why, and how "
      + "appeals ended. Every decision comes with a statement of reasons to the person it "
      + "concerns, who can appeal it."),
    form, out);
  await load();
}
