// The OCOP ledger's dashboard: plain JavaScript, no framework, no CDN.
// Every call to /v1 carries the bearer token the official pasted once.
"use strict";

const $ = (sel) => document.querySelector(sel);
const STAGES = {
  idea_registered: "Đã đăng ký ý tưởng", idea_selected: "Ý tưởng được chọn", idea_rejected: "Ý tưởng bị loại",
  plan_submitted: "Đã nộp phương án", plan_approved: "Phương án được duyệt", plan_rejected: "Phương án bị trả lại",
  dossier_submitted: "Đã nộp hồ sơ đánh giá", scored: "Đã chấm điểm", certified: "Đã công nhận",
  expired: "Hết hạn công nhận", revoked: "Bị thu hồi", registered: "Đăng ký đánh giá trực tiếp", none: "—",
};
const EVENTS = {
  IdeaRegistered: "Đăng ký ý tưởng sản phẩm", IdeaReviewed: "Xét chọn ý tưởng", PlanSubmitted: "Nộp phương án kinh doanh",
  PlanReviewed: "Xét duyệt phương án", SupportGranted: "Hỗ trợ", DossierSubmitted: "Nộp hồ sơ đánh giá",
  ScoreRecorded: "Hội đồng chấm điểm", Forwarded: "Chuyển cấp trên", Certified: "Quyết định công nhận",
  RatingRevoked: "Quyết định thu hồi", InspectionRecorded: "Kiểm tra sau công nhận", PromotionRecorded: "Xúc tiến thương mại",
  EventAnnulled: "Hủy bỏ bản ghi sai", ProductClassified: "Phân nhóm sản phẩm",
  ProductRegistered: "Đăng ký sản phẩm đánh giá trực tiếp", DossierEnded: "Kết thúc hồ sơ đánh giá",
  RoundEntered: "Vào kỳ đánh giá", RoleRevoked: "Thu hồi quyền",
};

function token() { return localStorage.getItem("ocop-token") || ""; }
function say(text) { $("#message").textContent = text || ""; }
function stars(n) { return n ? "★".repeat(n) + " (" + n + " sao)" : "—"; }
function esc(s) { return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }

async function api(path, raw) {
  const res = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
  if (res.status === 401) throw new Error("Chưa có mã truy cập hợp lệ: dán mã ở trên rồi bấm Lưu.");
  if (!res.ok) {
    let message = res.statusText;
    try { message = (await res.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return raw ? res : res.json();
}

function show(tab) {
  document.querySelectorAll(".tab").forEach((s) => s.classList.toggle("shown", s.id === tab));
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.tab === tab));
}

// ---------------------------------------------------------------- search
async function search(q) {
  const data = await api("/v1/products?limit=200&q=" + encodeURIComponent(q));
  const body = $("#results tbody");
  body.innerHTML = "";
  for (const r of data.rows) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${esc(r.product)}</td><td><a href="#/product/${encodeURIComponent(r.product)}">${esc(r.name)}</a></td>` +
      `<td>${esc(r.subject_name)}</td><td>${esc(r.unit_name)}</td><td>${esc(STAGES[r.stage] || r.stage)}</td>` +
      `<td class="stars">${r.stars ? "★".repeat(r.stars) : ""}</td>`;
    tr.onclick = () => { location.hash = "#/product/" + encodeURIComponent(r.product); };
    body.appendChild(tr);
  }
  say(data.rows.length ? `${data.rows.length} sản phẩm` : "Không tìm thấy sản phẩm nào.");
}

// ---------------------------------------------------------------- product
function drawStarChart(svg, history) {
  svg.innerHTML = "";
  if (!history.length) { svg.innerHTML = '<text x="20" y="90">Chưa được công nhận hạng sao.</text>'; return; }
  const day = (s) => Date.parse(s + "T00:00:00Z") / 86400000;
  const start = day(history[0].from) - 60;
  const end = Math.max(...history.map((h) => day(h.to || new Date().toISOString().slice(0, 10)))) + 60;
  const x = (d) => 50 + ((d - start) / (end - start)) * 650;
  const y = (s) => 160 - s * 28;
  let out = "";
  for (let s = 1; s <= 5; s++) out += `<text x="8" y="${y(s) + 4}" font-size="12">${s}★</text><line x1="45" x2="710" y1="${y(s)}" y2="${y(s)}" stroke="#eee"/>`;
  for (const h of history) {
    const a = x(day(h.from)), b = x(day(h.to || new Date().toISOString().slice(0, 10)));
    out += `<rect x="${a}" y="${y(h.stars)}" width="${Math.max(2, b - a)}" height="${160 - y(h.stars)}" fill="${h.to ? "#e7c46b" : "#d49b00"}" opacity="0.85"><title>${esc(h.stars)} sao: ${esc(h.from)} → ${esc(h.to || "nay")} (QĐ ${esc(h.decision)})</title></rect>`;
    out += `<text x="${a + 3}" y="${y(h.stars) - 4}" font-size="11">${esc(h.from.slice(0, 4))}</text>`;
  }
  svg.innerHTML = out;
}

async function product(id) {
  const [st, hist] = await Promise.all([api("/v1/products/" + encodeURIComponent(id)), api("/v1/products/" + encodeURIComponent(id) + "/history")]);
  $("#p-name").textContent = `${st.name} (${st.product})`;
  $("#p-stage").textContent = STAGES[st.stage] || st.stage;
  $("#p-stars").innerHTML = `<span class="stars">${st.stars ? "★".repeat(st.stars) : "—"}</span>`;
  $("#p-cert").textContent = st.certificate ? `${st.certificate.no} — QĐ ${st.certificate.decision.no} ngày ${st.certificate.decision.date}` : "Không có";
  $("#p-days").textContent = st.certificate ? `${st.certificate.days_left} ngày (đến ${st.certificate.valid_until})` : "—";
  drawStarChart($("#p-chart"), st.star_history);
  const ol = $("#p-timeline");
  ol.innerHTML = "";
  for (const e of hist.events) {
    const li = document.createElement("li");
    const kind = Object.keys(e.payload || {})[0] || e.type;
    const p = (e.payload || {})[kind] || {};
    const decision = p.decision ? ` — QĐ ${esc(p.decision.no)} ngày ${esc(p.decision.date)}` : "";
    const extra = kind === "Certified" ? ` — ${p.stars} sao, GCN ${esc(p.certificate)}, hiệu lực đến ${esc(p.valid_until)}` :
      kind === "ScoreRecorded" ? ` — ${p.total} điểm, ${p.stars} sao (${esc(p.rules)})` :
      kind === "EventAnnulled" ? ` — hủy bản ghi #${p.target_seq}: ${esc(p.reason)}` : "";
    li.innerHTML = `<span class="${e.annulled_by ? "annulled" : ""}"><b>${esc(EVENTS[kind] || kind)}</b>${decision}${extra}</span>` +
      `<div class="when">Hiệu lực ${esc(e.effective)} · ghi sổ ${esc(e.recorded)} · ${esc(e.actor.principal)} (${esc(e.actor.role)}, ${esc(e.actor.unit)}) · #${e.seq}` +
      (e.annulled_by ? ` · đã bị hủy bởi #${e.annulled_by}` : "") + `</div>`;
    ol.appendChild(li);
  }
  say("");
}

// ---------------------------------------------------------------- deadlines
async function deadlines() {
  const params = new URLSearchParams({ within_days: $("#d-within").value || "90" });
  if ($("#d-asof").value) params.set("as_of", $("#d-asof").value);
  if ($("#d-unit").value) params.set("unit", $("#d-unit").value.trim());
  const data = await api("/v1/deadlines?" + params);
  const body = $("#deadline-table tbody");
  body.innerHTML = "";
  for (const r of data.rows) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td><a href="#/product/${encodeURIComponent(r.product)}">${esc(r.name)}</a></td><td>${esc(r.unit)}</td>` +
      `<td class="stars">${"★".repeat(r.stars)}</td><td>${esc(r.certificate)}</td><td>${esc(r.valid_until)}</td>` +
      `<td class="num">${r.days_left < 0 ? "Đã hết hạn " + -r.days_left : r.days_left}</td>`;
    body.appendChild(tr);
  }
  say(`${data.rows.length} giấy chứng nhận, tính đến ${data.as_of}`);
}

// ---------------------------------------------------------------- report
function reportParams(format) {
  const p = new URLSearchParams({ period: $("#r-period").value.trim(), format });
  if ($("#r-unit").value.trim()) p.set("unit", $("#r-unit").value.trim());
  return p;
}

function drawUnitChart(svg, byUnitStars, names) {
  const units = Object.keys(byUnitStars);
  if (!units.length) { svg.innerHTML = '<text x="20" y="120">Không có sản phẩm còn hiệu lực.</text>'; return; }
  const colors = { 3: "#e7c46b", 4: "#d49b00", 5: "#b3261e" };
  const max = Math.max(...units.map((u) => Object.values(byUnitStars[u]).reduce((a, b) => a + b, 0)));
  const w = 650 / units.length;
  let out = "";
  units.forEach((u, i) => {
    let top = 220;
    for (const s of [3, 4, 5]) {
      const n = byUnitStars[u][s] || 0;
      const h = (n / max) * 190;
      top -= h;
      if (n) out += `<rect x="${55 + i * w}" y="${top}" width="${Math.max(4, w - 6)}" height="${h}" fill="${colors[s]}"><title>${esc(names[u] || u)}: ${n} sản phẩm ${s} sao</title></rect>`;
    }
    out += `<text x="${55 + i * w}" y="236" font-size="10" transform="rotate(20 ${55 + i * w} 236)">${esc((names[u] || u).slice(0, 18))}</text>`;
  });
  out += `<text x="8" y="20" font-size="11">${max}</text><text x="8" y="220" font-size="11">0</text>`;
  out += `<text x="560" y="14" font-size="11" fill="${colors[3]}">■ 3 sao</text><text x="610" y="14" font-size="11" fill="${colors[4]}">■ 4 sao</text><text x="660" y="14" font-size="11" fill="${colors[5]}">■ 5 sao</text>`;
  svg.innerHTML = out;
}

const REASONS = {
  production_stopped: "Ngừng sản xuất", criteria_not_met: "Không còn đáp ứng tiêu chí",
  violation: "Vi phạm (chất lượng, an toàn thực phẩm, nhãn, sở hữu trí tuệ)", owner_request: "Theo đề nghị của chủ thể",
  false_dossier: "Hồ sơ không trung thực", other: "Lý do khác",
  not_reevaluated: "Không đánh giá lại khi hết hạn", failed_reevaluation: "Đánh giá lại không đạt",
};

function countsTable(title, counts, label) {
  const rows = Object.entries(counts || {}).map(([k, v]) => `<tr><td>${esc(label ? label(k) : k)}</td><td class="num">${v}</td></tr>`).join("");
  return `<h3>${esc(title)}</h3><table><tbody>${rows || '<tr><td colspan="2">—</td></tr>'}</tbody></table>`;
}

async function report() {
  let r = await api("/v1/reports?" + reportParams("json"));
  // A province's ledger has one top-level unit: the chart of one bar tells
  // nothing, so open the report of that unit, whose rows are its districts.
  const top = Object.keys(r.active_at_end.by_unit || {});
  if (!$("#r-unit").value.trim() && top.length === 1) {
    $("#r-unit").value = top[0];
    r = await api("/v1/reports?" + reportParams("json"));
  }
  const card = (label, value) => `<div class="card"><div class="label">${label}</div><div class="value">${value}</div></div>`;
  $("#r-summary").innerHTML = card("Công nhận trong kỳ", r.recognised.total) + card("Thu hồi", r.revoked.total) +
    card("Hết hạn", r.expired.total) + card("Còn hiệu lực cuối kỳ", r.active_at_end.total) +
    card("Chủ thể có sản phẩm", r.subjects_at_end.total);
  drawUnitChart($("#r-chart"), r.active_at_end.by_unit_stars || {}, r.unit_names || {});
  const unit = (k) => (r.unit_names[k] || k);
  const entries = { new: "Đánh giá lần đầu", renewal: "Công nhận lại", upgrade: "Nâng hạng", import: "Đã công nhận trước khi có sổ cái" };
  const byEntry = Object.fromEntries(Object.entries(r.recognised.by_entry).map(([k, v]) => [entries[k] || k, v.total]));
  $("#r-tables").innerHTML = countsTable("Công nhận theo hạng sao", r.recognised.by_stars, (k) => k + " sao") +
    countsTable("Công nhận theo loại hồ sơ", byEntry) + countsTable("Công nhận theo đơn vị", r.recognised.by_unit, unit) +
    countsTable("Công nhận theo loại hình chủ thể", r.recognised.by_legal_form) + countsTable("Thu hồi theo lý do", r.revoked.by_reason, (k) => REASONS[k] || k);
  $("#r-ledger").textContent = r.ledger ? `Tính từ sổ cái gồm ${r.ledger.size} sự kiện, gốc cây băm ${r.ledger.root}, chữ ký ${r.ledger.signature}` : "";
  say(`Báo cáo kỳ ${r.period.from} – ${r.period.to}`);
}

async function download(format) {
  const res = await api("/v1/reports?" + reportParams(format), true);
  const blob = await res.blob();
  const name = (res.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name ? name[1] : "ocop-report." + format;
  a.id = "last-download";
  document.body.appendChild(a);
  a.click();
  say(`Đã tải ${a.download} (${blob.size} byte)`);
}

// ---------------------------------------------------------------- audit
async function audit() {
  const params = new URLSearchParams({ from: $("#a-from").value, to: $("#a-to").value });
  if ($("#a-unit").value.trim()) params.set("unit", $("#a-unit").value.trim());
  if ($("#a-principal").value.trim()) params.set("principal", $("#a-principal").value.trim());
  const data = await api("/v1/changes?" + params);
  const body = $("#audit-table tbody");
  body.innerHTML = "";
  for (const d of data.decisions) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${esc(d.date)}</td><td>${esc(d.decision)}</td><td>${esc(d.issuer)}</td><td>${esc(EVENTS[d.type] || d.type)}</td>` +
      `<td><a href="#" class="by" title="Chỉ xem các quyết định của người này">${esc(d.by)}</a></td><td>${d.products.map((p) => `<a href="#/product/${encodeURIComponent(p.product)}">${esc(p.name)}</a>`).join(", ")}</td>`;
    tr.querySelector("a.by").onclick = guard(async () => {
      $("#a-principal").value = d.by;
      await audit();
    });
    body.appendChild(tr);
  }
  say(`${data.decisions.length} quyết định, ${data.changes} sự kiện trong kỳ`);
}

// ---------------------------------------------------------------- wiring
async function route() {
  const h = location.hash || "#/";
  try {
    if (h.startsWith("#/product/")) { show("product"); await product(decodeURIComponent(h.slice(10))); }
    else if (h.startsWith("#/deadlines")) { show("deadlines"); }
    else if (h.startsWith("#/report")) {
      show("report");
      const q = new URLSearchParams(h.split("?")[1] || "");
      if (q.get("period")) { $("#r-period").value = q.get("period"); $("#r-unit").value = q.get("unit") || ""; await report(); }
    }
    else if (h === "#/audit") { show("audit"); }
    else {
      show("search");
      const q = new URLSearchParams(h.split("?")[1] || "");
      if (q.get("q") !== null) { $("#q").value = q.get("q"); await search(q.get("q")); }
    }
  } catch (e) { say(e.message); }
}

function guard(fn) { return async (ev) => { if (ev) ev.preventDefault(); try { await fn(); } catch (e) { say(e.message); } }; }

// A link may carry the token once (#/...?token=...): keep it, then drop it from the address bar.
{
  const m = location.hash.match(/[?&]token=([0-9a-fA-F]+)/);
  if (m) {
    localStorage.setItem("ocop-token", m[1]);
    history.replaceState(null, "", location.pathname + location.hash.replace(/[?&]token=[0-9a-fA-F]+/, ""));
  }
}
$("#token").value = token();
$("#token-form").onsubmit = guard(async () => { localStorage.setItem("ocop-token", $("#token").value.trim()); $("#who").textContent = "Đã lưu mã."; await route(); });
$("#search-form").onsubmit = guard(() => search($("#q").value));
$("#deadline-form").onsubmit = guard(deadlines);
$("#report-form").onsubmit = guard(report);
$("#r-csv").onclick = guard(() => download("csv"));
$("#r-xlsx").onclick = guard(() => download("xlsx"));
$("#audit-form").onsubmit = guard(audit);
const today = new Date().toISOString().slice(0, 10);
$("#d-asof").value = today;
$("#a-to").value = today;
$("#a-from").value = today.slice(0, 4) + "-01-01";
window.addEventListener("hashchange", route);
route();
