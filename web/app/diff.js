// What changed between two texts, line by line (longest common subsequence).

const MAX_CELLS = 4_000_000; // beyond this the caller says "revised" instead of showing a diff

/** [{kind: "same" | "added" | "removed", text}] from `before` to `after`, or null if too big. */
export function lineDiff(before, after) {
  const a = before.split(/\r?\n/);
  const b = after.split(/\r?\n/);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const n = endA - start;
  const m = endB - start;
  if ((n + 1) * (m + 1) > MAX_CELLS) return null;
  // lengths[i][j]: the LCS of a[start+i..endA) and b[start+j..endB), row-major.
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lengths[i * width + j] = a[start + i] === b[start + j]
        ? lengths[(i + 1) * width + j + 1] + 1
        : Math.max(lengths[(i + 1) * width + j], lengths[i * width + j + 1]);
    }
  }
  const out = a.slice(0, start).map((text) => ({ kind: "same", text }));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      out.push({ kind: "same", text: a[start + i] });
      i += 1;
      j += 1;
    } else if (i < n && (j === m || lengths[(i + 1) * width + j] >= lengths[i * width + j + 1])) {
      out.push({ kind: "removed", text: a[start + i] });
      i += 1;
    } else {
      out.push({ kind: "added", text: b[start + j] });
      j += 1;
    }
  }
  return out.concat(a.slice(endA).map((text) => ({ kind: "same", text })));
}

/** The changes with `context` unchanged lines around each; gaps become {kind: "gap"}. */
export function withContext(lines, context = 1) {
  const keep = lines.map(() => false);
  lines.forEach((line, index) => {
    if (line.kind === "same") return;
    for (let k = index - context; k <= index + context; k += 1) {
      if (k >= 0 && k < lines.length) keep[k] = true;
    }
  });
  const out = [];
  lines.forEach((line, index) => {
    if (keep[index]) out.push(line);
    else if (out.length === 0 || out[out.length - 1].kind !== "gap") out.push({ kind: "gap" });
  });
  return out;
}
