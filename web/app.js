// The OCOP ledger's dashboard: plain JavaScript, no framework, no CDN.
//
// One core (signing in, calls to /v1, messages, view states, names, sortable
// tables) and views registered on it. Another page or script adds a view
// with OCOP.addView(id, {route, load}) and a <section id=...> of its own;
// forms.js adds the "Ghi nhận" view this way.
//
// Honest states: each view has its own message line (.msg) coloured by kind
// (loading, ok, empty, error, stale). A load that fails empties what the view
// showed, so old figures never stand under a new title; a late answer to a
// superseded request is dropped; changing a view's conditions after a load
// marks its figures stale until it is loaded again.
"use strict";

const OCOP = (window.OCOP = { views: {}, units: {}, councils: {}, labels: {}, me: null });
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

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
  RoundEntered: "Vào kỳ đánh giá", RoleRevoked: "Thu hồi quyền", DisputeFiled: "Tiếp nhận khiếu nại",
  DisputeResolved: "Giải quyết khiếu nại",
};
const CERT_STATES = { none: "Chưa có", in_force: "Còn hiệu lực", lapsed: "Đã hết hạn", revoked: "Đã bị thu hồi" };

// ---------------------------------------------------------------- words and numbers
function esc(s) { return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }
function value(field, v) { return ((OCOP.labels.values || {})[field] || {})[v] || v; }
function fmtDate(d) { return d && /^\d{4}-\d{2}-\d{2}/.test(d) ? `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}` : (d || "—"); }
const VN_TIME = new Intl.DateTimeFormat("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", year: "numeric" });
function fmtTime(iso) { const t = Date.parse(iso); return isNaN(t) ? (iso || "") : VN_TIME.format(new Date(t)); }
function fmtVnd(n) { return Number(n).toLocaleString("vi-VN") + " đồng"; }
function fmtNum(n) { return Number(n).toLocaleString("vi-VN"); }
// Today's date in Vietnam (UTC+7), whatever the computer's zone: before 07:00
// UTC it is already tomorrow's date there.
function todayVN() { return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh" }).format(new Date()); }
function stars(n) { return n ? `<span><span class="stars" aria-hidden="true">${"★".repeat(n)}</span> ${n} sao</span>` : "—"; }
function unitName(code) { return code ? (OCOP.units[code] ? OCOP.units[code].name : code) : "—"; }
function roleName(r) { return value("role", r); }
// Who acted: the official's name and position when the office recorded them
// (RegisterOfficial), then the account and the role and unit it acted in.
function person(actor) {
  const role = `${esc(roleName(actor.role))}, ${esc(unitName(actor.unit))}`;
  if (!actor.name) return `${esc(actor.principal)} (${role})`;
  const post = [actor.title, actor.office].filter(Boolean).map(esc).join(", ");
  return `<span class="person">${esc(actor.name)}</span> (${post}) <span class="account">· tài khoản ${esc(actor.principal)}, ${role}</span>`;
}
function councilName(id) {
  const c = OCOP.councils[id];
  return c ? `Hội đồng cấp ${value("level", c.level).toLowerCase()} — ${c.unit_name} (${id})` : id;
}
function decisionText(d) { return d && d.no ? `QĐ ${d.no} ngày ${fmtDate(d.date)} của ${unitName(d.issuer)}` : ""; }
// Decision numbers sort by year, then number: 88/QĐ-UBND before 116/QĐ-UBND.
function decisionKey(no, date) {
  const m = String(no || "").match(/^\s*(\d+)/);
  const y = String(no || "").match(/\/((?:19|20)\d\d)\//);
  const year = date ? date.slice(0, 4) : (y ? y[1] : "0000");
  return `${year}|${String(m ? m[1] : 0).padStart(8, "0")}|${no}`;
}
OCOP.fmt = { esc, fmtDate, fmtTime, fmtVnd, fmtNum, todayVN, stars, unitName, roleName, person, councilName, decisionText, value };

// ---------------------------------------------------------------- messages and states
function say(view, kind, text) {
  const el = view === "sign-in" ? $('.msg[data-for="sign-in"]') : $(`#${view} > .msg`);
  if (!el) return;
  el.className = "msg" + (text ? " " + kind : "");
  el.textContent = text || "";
}
// Empties what a view shows (tables and filled elements), keeping its labels.
function clearView(view) {
  const sec = document.getElementById(view);
  $$("tbody", sec).forEach((t) => { t.innerHTML = ""; });
  $$(".data [id]:not(h3):not(table)", sec).forEach((e) => { e.innerHTML = ""; });
  sec.classList.remove("loaded", "stale");
}
const loads = {};
// Runs a view's load: loading state first; on failure the view is emptied and
// says why. `fn` gets live(): false once a newer load of the view began.
async function load(view, fn) {
  const n = (loads[view] = (loads[view] || 0) + 1);
  const live = () => n === loads[view];
  const sec = document.getElementById(view);
  sec.classList.add("loading");
  sec.setAttribute("aria-busy", "true");
  say(view, "loading", "Đang tải…");
  try {
    await fn(live);
    if (live()) { sec.classList.add("loaded"); sec.classList.remove("stale"); }
  } catch (e) {
    if (!live()) return;
    clearView(view);
    say(view, "error", e.message);
  } finally {
    if (live()) { sec.classList.remove("loading"); sec.removeAttribute("aria-busy"); }
  }
}
// Conditions changed after a load: the figures shown no longer match them.
function watchStale(view) {
  const sec = document.getElementById(view);
  $$("form input, form select", sec).forEach((el) => el.addEventListener("input", () => {
    if (sec.classList.contains("loaded") && !sec.classList.contains("loading")) {
      sec.classList.add("stale");
      say(view, "stale", "Điều kiện đã thay đổi: số liệu dưới đây chưa được cập nhật theo điều kiện mới.");
    }
  }));
}
OCOP.say = say;
OCOP.load = load;
OCOP.clearView = clearView;

// ---------------------------------------------------------------- the token and calls
const TOKEN = "ocop-token";
// Kept for this browser session only (sessionStorage) unless the official
// ticks "remember" on a computer of their own.
function token() { return sessionStorage.getItem(TOKEN) || localStorage.getItem(TOKEN) || ""; }
function keepToken(t, remember) {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(TOKEN, t);
}
function forgetToken() { sessionStorage.removeItem(TOKEN); localStorage.removeItem(TOKEN); }

class ApiError extends Error {
  constructor(status, code, detail, extra) {
    const lead = {
      400: "Dữ liệu chưa đúng", 401: "Mã truy cập không hợp lệ hoặc đã hết hạn: hãy đăng nhập lại",
      403: "Tài khoản này không có thẩm quyền làm việc này", 404: "Không tìm thấy",
      409: "Xung đột với bản ghi đã có", 422: "Quy trình OCOP không cho phép", 503: "Máy chủ đang bận, thử lại sau",
      507: "Máy chủ hết chỗ lưu trữ: chưa ghi được, việc đọc vẫn tiếp tục",
    }[status] || (status >= 500 ? "Máy chủ gặp lỗi" : "Không thực hiện được");
    super(detail ? `${lead}: ${detail}` : lead);
    this.status = status;
    this.code = code;
    this.detail = detail || "";
    Object.assign(this, extra || {});
  }
}

async function api(path, opts = {}) {
  let res;
  try {
    res = await fetch(path, {
      method: opts.method || "GET",
      headers: Object.assign({ Authorization: "Bearer " + token() }, opts.body ? { "Content-Type": "application/json" } : {}),
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, "network", "không kết nối được máy chủ (" + e.message + ")");
  }
  if (!res.ok) {
    let err = {};
    try { err = (await res.json()).error || {}; } catch (e) { /* not JSON */ }
    if (res.status === 401) signedOut("Mã truy cập không còn hợp lệ: hãy đăng nhập lại.");
    // `field`: the path of the field a refusal names, `index`: the command of a batch.
    throw new ApiError(res.status, err.code, err.message || res.statusText, { field: err.field || "", index: err.index });
  }
  return opts.raw ? res : res.json();
}
OCOP.api = api;
OCOP.ApiError = ApiError;

async function download(path, fallbackName, view) {
  const res = await api(path, { raw: true });
  const blob = await res.blob();
  const name = (res.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name ? name[1] : fallbackName;
  a.id = "last-download";
  $("#last-download")?.remove();
  document.body.appendChild(a);
  a.click();
  say(view, "ok", `Đã tải ${a.download} (${fmtNum(blob.size)} byte)`);
}
OCOP.download = download;

// ---------------------------------------------------------------- sortable tables
// fillTable keeps the rows; a click on a heading with data-key sorts by it
// (again: the other way). data-type: num, date, decision, or text.
function fillTable(table, rows, render) {
  table._rows = rows;
  table._render = render;
  const body = $("tbody", table);
  body.innerHTML = "";
  // Each cell names its column, for the phone layout (one card per row).
  const heads = $$("thead th", table).map((th) => th.textContent);
  for (const r of rows) {
    const tr = render(r);
    Array.from(tr.children).forEach((td, i) => { td.dataset.label = heads[i] || ""; });
    body.appendChild(tr);
  }
}
function sortTable(th) {
  const table = th.closest("table");
  if (!table._rows) return;
  const key = th.dataset.key, type = th.dataset.type || "text";
  const dir = th.dataset.dir === "asc" ? -1 : 1;
  $$("th", table).forEach((h) => { delete h.dataset.dir; h.removeAttribute("aria-sort"); });
  th.dataset.dir = dir === 1 ? "asc" : "desc";
  th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
  const k = (r) => type === "decision" ? decisionKey(r[key], r.date) : r[key];
  const rows = table._rows.slice().sort((a, b) => {
    const x = k(a), y = k(b);
    if (type === "num") return dir * ((x ?? -Infinity) - (y ?? -Infinity));
    return dir * String(x ?? "").localeCompare(String(y ?? ""), "vi");
  });
  fillTable(table, rows, table._render);
}
document.addEventListener("click", (ev) => {
  const th = ev.target.closest("table.sortable th[data-key]");
  if (th) sortTable(th);
});
function row(html, onclick) {
  const tr = document.createElement("tr");
  tr.innerHTML = html;
  if (onclick) { tr.classList.add("link"); tr.onclick = (ev) => { if (!ev.target.closest("a")) onclick(); }; }
  return tr;
}
OCOP.fillTable = fillTable;
OCOP.row = row;
OCOP.decisionKey = decisionKey;

// ---------------------------------------------------------------- signing in
function showSession(me) {
  const inForce = me.grants.filter((g) => g.in_force);
  const roles = inForce.length
    ? inForce.map((g) => `${roleName(g.role)} — ${g.unit_name}${g.council ? " (" + g.council + ")" : ""}`).join("; ")
    : "không có quyền nào đang hiệu lực";
  const o = me.official;
  const named = o ? `<b>${esc(o.name)}</b> (${esc([o.title, o.office].filter(Boolean).join(", "))}) · tài khoản ${esc(me.principal)}` : `<b>${esc(me.principal)}</b>`;
  $("#who").innerHTML = `Đang đăng nhập: ${named} · ${esc(roles)}`;
  $("#session").hidden = false;
  $("#sign-in").hidden = true;
  document.body.classList.add("signed-in");
}
function signedOut(why) {
  forgetToken();
  OCOP.me = null;
  $("#session").hidden = true;
  $("#sign-in").hidden = false;
  document.body.classList.remove("signed-in");
  Object.keys(OCOP.views).forEach(clearView);
  $$("main > section > .msg").forEach((m) => { m.className = "msg"; m.textContent = ""; });
  say("sign-in", why ? "error" : "info", why || "Hãy dán mã truy cập rồi bấm Đăng nhập.");
}
async function signIn() {
  const me = await api("/v1/whoami");
  OCOP.me = me;
  const [units, councils] = await Promise.all([api("/v1/units"), api("/v1/councils")]);
  OCOP.units = Object.fromEntries(units.rows.map((u) => [u.unit, u]));
  OCOP.councils = Object.fromEntries(councils.rows.map((c) => [c.council, c]));
  fillUnitPickers();
  showSession(me);
  say("sign-in", "", "");
  document.dispatchEvent(new CustomEvent("ocop-signed-in", { detail: me }));
}
// Units by level then name; retired ones say so.
function unitOptions(all) {
  const order = { national: 0, province: 1, district: 2, commune: 3 };
  const units = Object.values(OCOP.units).sort((a, b) => (order[a.level] - order[b.level]) || a.name.localeCompare(b.name, "vi"));
  return (all ? `<option value="">${esc(all)}</option>` : "") +
    units.map((u) => `<option value="${esc(u.unit)}">${esc(u.name)}${u.retired ? " (đã sáp nhập)" : ""}</option>`).join("");
}
function fillUnitPickers() {
  $$("select.unit-picker").forEach((s) => { const v = s.value; s.innerHTML = unitOptions("Tất cả đơn vị"); s.value = v; });
}
OCOP.unitOptions = unitOptions;

// ---------------------------------------------------------------- search
async function search(q) {
  await load("search", async (live) => {
    const data = await api("/v1/products?limit=200&q=" + encodeURIComponent(q));
    if (!live()) return;
    fillTable($("#results"), data.rows.map((r) => Object.assign({}, r, { stage_name: STAGES[r.stage] || r.stage })), (r) => row(
      `<td>${esc(r.product)}</td><td><a href="#/product/${encodeURIComponent(r.product)}">${esc(r.name)}</a>` +
      (r.matched ? `<div class="note">${esc(r.matched)}</div>` : "") + `</td>` +
      `<td>${esc(r.subject_name)}</td><td>${esc(r.unit_name)}</td><td>${esc(r.stage_name)}</td>` +
      `<td>${r.stars ? stars(r.stars) : ""}</td>`,
      () => { location.hash = "#/product/" + encodeURIComponent(r.product); }));
    const total = data.total ?? data.rows.length;
    if (!data.rows.length) say("search", "empty", `Không tìm thấy sản phẩm nào khớp «${q}».`);
    else say("search", "ok", total > data.rows.length ? `${fmtNum(total)} sản phẩm khớp; hiện ${data.rows.length} đầu tiên.` : `${fmtNum(total)} sản phẩm`);
  });
}

// ---------------------------------------------------------------- product
function starChart(el, history, today) {
  if (!history.length) { el.innerHTML = '<p class="note">Chưa được công nhận hạng sao.</p>'; return; }
  const day = (s) => Date.parse(s + "T00:00:00Z") / 86400000;
  const start = day(history[0].from), end = Math.max(...history.map((h) => day(h.to || today)), day(today));
  const span = Math.max(1, end - start);
  el.innerHTML = `<div class="bars">` + history.map((h) => {
    const left = ((day(h.from) - start) / span) * 100, width = Math.max(1, ((day(h.to || today) - day(h.from)) / span) * 100);
    return `<div class="bar-row"><div class="bar-label">${stars(h.stars)} · GCN ${esc(h.certificate || "")}<br>` +
      `từ ${fmtDate(h.from)} đến ${h.to ? fmtDate(h.to) : "nay"} · QĐ ${esc(h.decision)}</div>` +
      `<div class="bar-track"><div class="bar s${h.stars}" style="margin-left:${left}%;width:${width}%"></div></div></div>`;
  }).join("") + `</div>`;
}

// One recorded fact in words. `producer(code)` names a producer by its name
// where the page knows it, else by its code.
function describe(kind, p, e, producer = (code) => esc(code)) {
  const d = p.decision ? " — " + decisionText(p.decision) : "";
  switch (kind) {
    case "IdeaRegistered": {
      const i = p.idea || {};
      return `Ý tưởng «${esc(i.name)}» của ${producer(i.subject)}, ${esc(unitName(i.unit))}, nhóm ${esc(i.group || "chưa phân")} (${esc(i.group_list || "")}), chu trình ${esc(i.cycle_year)}${p.resubmission ? ", nộp lại sau khi bị loại" : ""}`;
    }
    case "ProductRegistered": return `Sản phẩm «${esc(p.name)}» của ${producer(p.subject)}, ${esc(unitName(p.unit))}, nhóm ${esc(p.group)}`;
    case "IdeaReviewed": case "PlanReviewed": return `Kết quả: ${esc(value("outcome", p.outcome))}${p.reason ? " — lý do: " + esc(p.reason) : ""}`;
    case "PlanSubmitted": return `Tài liệu «${esc(p.document?.title)}» (SHA-256 ${esc((p.document?.sha256 || "").slice(0, 12))}…)`;
    case "SupportGranted": return `${esc(p.category)}: ${fmtVnd(p.amount_vnd)} từ ${esc(value("source", p.source))}`;
    case "DossierSubmitted": return `${esc(value("entry", p.entry))}, chu trình ${esc(p.cycle_year)}`;
    case "ScoreRecorded": {
      const s = p.score || {}, parts = s.parts || {};
      return `${esc(councilName(s.council))}: ${fmtNum(p.total)} điểm (A ${fmtNum(parts.A ?? 0)}, B ${fmtNum(parts.B ?? 0)}, C ${fmtNum(parts.C ?? 0)}) → ${p.stars} sao theo ${esc(p.rules)}` +
        (s.sheet ? `, phiếu ${esc(s.sheet.set)}` : "") + ((p.hard_missed || []).length ? `; không đạt tiêu chí bắt buộc: ${esc(p.hard_missed.join(", "))}` : "");
    }
    case "Forwarded": return `Chuyển lên cấp ${esc(value("to_level", p.to_level).toLowerCase())}`;
    case "Certified": return `${p.stars} sao, GCN ${esc(p.certificate)}, hiệu lực ${fmtDate(p.valid_from)} – ${fmtDate(p.valid_until)} (${esc(value("entry", p.entry))}${p.fewer_stars ? ", ít sao hơn lần trước" : ""})${d}`;
    case "RatingRevoked": return `Thu hồi GCN ${esc(p.certificate)} (${p.stars} sao), lý do: ${esc(value("reason", p.reason))}${d}`;
    case "DossierEnded": return `${p.outcome === "recognised" ? "Được công nhận" : "Không được công nhận"}${p.reason ? " — " + esc(p.reason) : ""}${p.decision && p.decision.no ? d : ""}`;
    case "InspectionRecorded": return `${p.compliant ? "Đạt yêu cầu" : "Không đạt yêu cầu"}${p.findings ? " — " + esc(p.findings) : ""}${p.deadline ? ", hạn khắc phục " + fmtDate(p.deadline) : ""}`;
    case "PromotionRecorded": return `Kênh: ${esc(p.channel)}`;
    case "ProductClassified": return `Nhóm ${esc(p.group)} (${esc(p.group_list || "")})`;
    case "EventAnnulled": return `Hủy bản ghi #${esc(p.target_seq)} (${esc(EVENTS[p.target_type] || p.target_type)}): ${esc(p.reason)}`;
    case "DisputeFiled": return `Khiếu nại ${esc(p.dispute)}: ${esc(p.claim)}`;
    case "DisputeResolved": return `Khiếu nại ${esc(p.dispute)}: ${esc(p.outcome)}${d}`;
    default: return esc(JSON.stringify(p)).slice(0, 300);
  }
}
OCOP.describe = describe;

async function product(id) {
  const params = new URLSearchParams();
  if ($("#p-asof").value) params.set("as_of", $("#p-asof").value);
  if ($("#p-known").value.trim()) params.set("known_at", $("#p-known").value.trim());
  const qs = params.toString() ? "?" + params : "";
  await load("product", async (live) => {
    const base = "/v1/products/" + encodeURIComponent(id);
    const [st, hist] = await Promise.all([api(base + qs), api(base + "/history" + qs)]);
    if (!live()) return;
    const subj = (await api("/v1/subjects?q=" + encodeURIComponent(st.subject))).rows.find((s) => s.subject === st.subject);
    if (!live()) return;
    $("#product").dataset.product = st.product;
    $("#p-name").textContent = `${st.name} (${st.product})`;
    const fact = (k, v) => `<div><dt>${k}</dt><dd>${v}</dd></div>`;
    $("#p-facts").innerHTML = fact("Chủ thể", subj ? `${esc(subj.name)} (${esc(value("legal_form", subj.legal_form))})` : esc(st.subject)) +
      fact("Đơn vị", esc(unitName(st.unit))) + fact("Nhóm sản phẩm", esc(st.group_name ? `${st.group_name} (${st.group_list})` : "chưa phân nhóm")) +
      fact("Tình trạng công nhận", esc(CERT_STATES[st.certificate_state] || st.certificate_state || "—")) +
      fact("Hồ sơ gần nhất", st.dossier ? esc(`${value("entry", st.dossier.entry)}, chu trình ${st.dossier.cycle_year}` + (st.dossier.score != null ? `, ${fmtNum(st.dossier.score)} điểm` : "") +
        (st.dossier.outcome ? (st.dossier.outcome === "recognised" ? ", được công nhận" : ", không được công nhận") : ", đang xét")) : "—") +
      fact("Tính đến", `ngày ${fmtDate(st.as_of)}` + (params.get("known_at") ? `, theo sổ cái tại ${esc(params.get("known_at"))}` : ", theo sổ cái hiện nay"));
    $("#p-stage").textContent = STAGES[st.stage] || st.stage;
    $("#p-stars").innerHTML = st.stars ? stars(st.stars) : "—";
    $("#p-cert").textContent = st.certificate ? `${st.certificate.no} — ${decisionText(st.certificate.decision)}` : "Không có";
    $("#p-days").textContent = st.certificate ? `${st.certificate.days_left} ngày (đến ${fmtDate(st.certificate.valid_until)})` : "—";
    starChart($("#p-chart"), st.star_history, st.as_of);
    const producer = (code) => subj && code === subj.subject ? `${esc(subj.name)} (${esc(code)})` : esc(code);
    const ol = $("#p-timeline");
    ol.innerHTML = "";
    for (const e of hist.events) {
      const kind = Object.keys(e.payload || {})[0] || e.type;
      const p = (e.payload || {})[kind] || {};
      const li = document.createElement("li");
      li.innerHTML = `<div class="${e.annulled_by ? "annulled" : ""}"><b>${esc(EVENTS[kind] || kind)}</b>: ${describe(kind, p, e, producer)}</div>` +
        `<div class="when">Hiệu lực ${fmtDate(e.effective)} · ghi sổ lúc ${esc(fmtTime(e.recorded))} · ${person(e.actor)} · bản ghi #${e.seq}` +
        (e.annulled_by ? ` · đã bị hủy bởi bản ghi #${e.annulled_by}` : "") + `</div>`;
      ol.appendChild(li);
    }
    say("product", "ok", `${hist.events.length} bản ghi.`);
  });
}

// ---------------------------------------------------------------- deadlines
function deadlineParams(format) {
  const p = new URLSearchParams({ within_days: $("#d-within").value || "180", as_of: $("#d-asof").value || todayVN() });
  if ($("#d-unit").value) p.set("unit", $("#d-unit").value);
  if (format) p.set("format", format);
  return p;
}
async function deadlines() {
  await load("deadlines", async (live) => {
    const data = await api("/v1/deadlines?" + deadlineParams());
    if (!live()) return;
    const named = data.rows.map((r) => Object.assign({ unit_name: unitName(r.unit), subject_name: r.subject_name || "" }, r));
    const upcoming = named.filter((r) => r.days_left >= 0).sort((a, b) => a.days_left - b.days_left);
    const lapsed = named.filter((r) => r.days_left < 0).sort((a, b) => b.days_left - a.days_left);
    const urgency = (d) => d < 0 ? "lapsed" : d <= 30 ? "urgent" : d <= 90 ? "soon" : "later";
    const render = (r) => row(`<td><a href="#/product/${encodeURIComponent(r.product)}">${esc(r.name)}</a></td><td>${esc(r.subject_name)}</td>` +
      `<td>${esc(r.unit_name)}</td><td>${stars(r.stars)}</td><td>${esc(r.certificate)}</td><td>${fmtDate(r.valid_until)}</td>` +
      `<td class="num"><span class="pill ${urgency(r.days_left)}">${r.days_left < 0 ? -r.days_left + " ngày" : r.days_left + " ngày"}</span></td>`);
    fillTable($("#d-upcoming"), upcoming, render);
    fillTable($("#d-lapsed"), lapsed, render);
    $("#d-up-title").textContent = `Sắp hết hạn trong ${data.within_days} ngày tới (${upcoming.length})`;
    $("#d-lapsed-title").textContent = `Đã hết hạn, chưa có quyết định công nhận lại hoặc thu hồi (${lapsed.length})`;
    const empty = !upcoming.length && !lapsed.length;
    say("deadlines", empty ? "empty" : "ok", empty ? `Không có giấy chứng nhận nào sắp hết hạn tính đến ${fmtDate(data.as_of)}.` :
      `Tính đến ${fmtDate(data.as_of)}: ${upcoming.length} sắp hết hạn, ${lapsed.length} đã hết hạn chờ quyết định.`);
  });
}

// ---------------------------------------------------------------- report
function reportParams(format) {
  const p = new URLSearchParams({ period: $("#r-period").value.trim(), format });
  if ($("#r-unit").value) p.set("unit", $("#r-unit").value);
  // The reporting calendar: periods that close on the 14th (a report due 15/6).
  if ($("#r-calendar").value) p.set("calendar", $("#r-calendar").value);
  return p;
}
// Stacked bars, one row per unit with its full name, each part with its
// count written in it and the row's total after it.
function unitChart(el, byUnitStars, names) {
  const units = Object.keys(byUnitStars);
  if (!units.length) { el.innerHTML = '<p class="note">Không có sản phẩm còn hiệu lực cuối kỳ.</p>'; return; }
  const total = (u) => Object.values(byUnitStars[u]).reduce((a, b) => a + b, 0);
  const max = Math.max(...units.map(total));
  units.sort((a, b) => total(b) - total(a));
  el.innerHTML = `<p class="legend"><span class="key s3"></span>3 sao <span class="key s4"></span>4 sao <span class="key s5"></span>5 sao</p><div class="bars">` +
    units.map((u) => `<div class="bar-row"><div class="bar-label">${esc(names[u] || unitName(u))}</div><div class="bar-track">` +
      [3, 4, 5].map((s) => { const n = byUnitStars[u][s] || 0; return n ? `<div class="bar s${s}" style="width:${(n / max) * 85}%" title="${esc(names[u] || u)}: ${n} sản phẩm ${s} sao">${n}</div>` : ""; }).join("") +
      `<span class="bar-total">${total(u)}</span></div></div>`).join("") + `</div>`;
}
function countsTable(title, counts, label) {
  const rows = Object.entries(counts || {}).map(([k, v]) => `<tr><td>${esc(label ? label(k) : k)}</td><td class="num">${fmtNum(v)}</td></tr>`).join("");
  return `<h3>${esc(title)}</h3><div class="scroll"><table><tbody>${rows || '<tr><td colspan="2">Không có</td></tr>'}</tbody></table></div>`;
}
async function report() {
  await load("report", async (live) => {
    let r = await api("/v1/reports?" + reportParams("json"));
    // A province's ledger has one top-level unit: open that unit's report,
    // whose rows are its districts.
    const top = Object.keys(r.active_at_end.by_unit || {});
    if (!$("#r-unit").value && top.length === 1 && OCOP.units[top[0]]) {
      $("#r-unit").value = top[0];
      r = await api("/v1/reports?" + reportParams("json"));
    }
    if (!live()) return;
    const card = (label, v) => `<div class="card"><div class="label">${label}</div><div class="value">${fmtNum(v)}</div></div>`;
    $("#r-title").textContent = `Báo cáo kỳ ${fmtDate(r.period.from)} – ${fmtDate(r.period.to)} · ${r.unit ? unitName(r.unit) : "toàn bộ"}`;
    $("#r-summary").innerHTML = card("Công nhận trong kỳ", r.recognised.total) + card("Thu hồi", r.revoked.total) +
      card("Hết hạn", r.expired.total) + card("Còn hiệu lực cuối kỳ", r.active_at_end.total) +
      card("Chủ thể có sản phẩm", r.subjects_at_end.total);
    unitChart($("#r-chart"), r.active_at_end.by_unit_stars || {}, r.unit_names || {});
    const unit = (k) => (r.unit_names || {})[k] || unitName(k);
    const entries = { new: "Đánh giá lần đầu", renewal: "Công nhận lại", upgrade: "Nâng hạng", import: "Đã công nhận trước khi có sổ cái" };
    const byEntry = Object.fromEntries(Object.entries(r.recognised.by_entry).map(([k, v]) => [entries[k] || k, v.total]));
    $("#r-tables").innerHTML = countsTable("Công nhận theo hạng sao", r.recognised.by_stars, (k) => k + " sao") +
      countsTable("Công nhận theo loại hồ sơ", byEntry) + countsTable("Công nhận theo đơn vị", r.recognised.by_unit, unit) +
      countsTable("Công nhận theo loại hình chủ thể", r.recognised.by_legal_form, (k) => value("legal_form", k)) +
      countsTable("Thu hồi theo lý do", r.revoked.by_reason, (k) => value("reason", k));
    $("#r-ledger").textContent = r.ledger ? `Tính từ sổ cái gồm ${r.ledger.size} sự kiện, gốc cây băm ${r.ledger.root}, chữ ký ${r.ledger.signature}` : "";
    say("report", r.recognised.total || r.active_at_end.total ? "ok" : "empty",
      `Báo cáo kỳ ${fmtDate(r.period.from)} – ${fmtDate(r.period.to)}` + (r.recognised.total || r.active_at_end.total ? "" : ": không có số liệu trong kỳ."));
  });
}

// ---------------------------------------------------------------- audit
async function audit() {
  const params = new URLSearchParams({ from: $("#a-from").value, to: $("#a-to").value });
  if ($("#a-unit").value) params.set("unit", $("#a-unit").value);
  if ($("#a-principal").value.trim()) params.set("principal", $("#a-principal").value.trim());
  await load("audit", async (live) => {
    const data = await api("/v1/changes?" + params);
    if (!live()) return;
    const rows = data.decisions.map((d) => Object.assign({}, d, { issuer_name: unitName(d.issuer), type_name: EVENTS[d.type] || d.type }));
    rows.sort((a, b) => decisionKey(a.decision, a.date).localeCompare(decisionKey(b.decision, b.date)));
    fillTable($("#audit-table"), rows, (d) => {
      const tr = row(`<td>${fmtDate(d.date)}</td><td>${esc(d.decision)}</td><td>${esc(d.issuer_name)}</td><td>${esc(d.type_name)}</td>` +
        `<td><a href="#" class="by" title="Chỉ xem các quyết định của người này">${d.by_official ? `${esc(d.by_official.name)} (${esc(d.by_official.title)})` : esc(d.by)}</a>` +
        (d.by_official ? `<div class="note">tài khoản ${esc(d.by)}</div>` : "") + `</td>` +
        `<td>${d.products.map((p) => `<a href="#/product/${encodeURIComponent(p.product)}">${esc(p.name)}</a>`).join(", ")}</td>`);
      tr.querySelector("a.by").onclick = (ev) => { ev.preventDefault(); $("#a-principal").value = d.by; audit(); };
      return tr;
    });
    say("audit", rows.length ? "ok" : "empty", rows.length ? `${rows.length} quyết định, ${data.changes} sự kiện trong kỳ` : "Không có quyết định nào trong kỳ này.");
  });
}

// ---------------------------------------------------------------- views and routes
OCOP.addView = (id, view) => { OCOP.views[id] = view; };
OCOP.addView("search", {
  route: (q) => { if (q.get("q") !== null) { $("#q").value = q.get("q"); return search(q.get("q")); } },
});
OCOP.addView("product", { route: (q, rest) => product(decodeURIComponent(rest)) });
OCOP.addView("deadlines", { route: () => { if (!$("#deadlines").classList.contains("loaded")) return deadlines(); } });
OCOP.addView("report", {
  route: (q) => {
    if (!q.get("period")) return;
    $("#r-period").value = q.get("period");
    $("#r-unit").value = q.get("unit") || "";
    $("#r-calendar").value = q.get("calendar") === "reporting" ? "reporting" : "";
    return report();
  },
});
// The decision log opens on this year's decisions; #/audit?from=&to= names a period.
OCOP.addView("audit", {
  route: (q) => {
    if (q.get("from")) $("#a-from").value = q.get("from");
    if (q.get("to")) $("#a-to").value = q.get("to");
    if (q.get("from") || q.get("to") || !$("#audit").classList.contains("loaded")) return audit();
  },
});

function show(tab) {
  $$("main > section").forEach((s) => s.classList.toggle("shown", s.id === tab));
  $$("nav a").forEach((a) => a.classList.toggle("active", a.dataset.tab === tab));
}
async function route() {
  if (!OCOP.me) return;
  const h = location.hash || "#/";
  const [path, query] = h.slice(1).split("?");
  const q = new URLSearchParams(query || "");
  let id = "search", rest = "";
  const m = path.match(/^\/([a-z-]+)(?:\/(.*))?$/);
  if (m && OCOP.views[m[1]]) { id = m[1]; rest = m[2] || ""; }
  show(id);
  const view = OCOP.views[id];
  if (view.route) await view.route(q, rest);
}
OCOP.route = route;

// A link may carry the token once (#/...?token=...): kept for this session,
// then dropped from the address bar.
{
  const m = location.hash.match(/[?&]token=([0-9a-fA-F]+)/);
  if (m) {
    keepToken(m[1], false);
    history.replaceState(null, "", location.pathname + location.hash.replace(/[?&]token=[0-9a-fA-F]+/, ""));
  }
}
$("#sign-in").onsubmit = async (ev) => {
  ev.preventDefault();
  const t = $("#token").value.trim();
  if (!t) { say("sign-in", "error", "Chưa nhập mã truy cập."); return; }
  keepToken(t, $("#remember").checked);
  $("#token").value = "";
  say("sign-in", "loading", "Đang kiểm tra mã…");
  try { await signIn(); await route(); } catch (e) { signedOut(e.message); }
};
$("#sign-out").onclick = () => { signedOut(""); say("sign-in", "ok", "Đã đăng xuất; mã truy cập đã được xóa khỏi trình duyệt."); location.hash = "#/"; };
$("#search-form").onsubmit = (ev) => { ev.preventDefault(); search($("#q").value); };
$("#product-form").onsubmit = (ev) => { ev.preventDefault(); product($("#product").dataset.product || decodeURIComponent(location.hash.slice(10))); };
$("#p-bundle").onclick = () => {
  const id = $("#product").dataset.product;
  if (id) download(`/v1/products/${encodeURIComponent(id)}/bundle`, `ocop-bundle-${id}.json`, "product").catch((e) => say("product", "error", e.message));
};
$("#deadline-form").onsubmit = (ev) => { ev.preventDefault(); deadlines(); };
$("#d-xlsx").onclick = () => download("/v1/deadlines?" + deadlineParams("xlsx"), "ocop-deadlines.xlsx", "deadlines").catch((e) => say("deadlines", "error", e.message));
$("#report-form").onsubmit = (ev) => { ev.preventDefault(); report(); };
$("#r-csv").onclick = () => download("/v1/reports?" + reportParams("csv"), "ocop-report.csv", "report").catch((e) => say("report", "error", e.message));
$("#r-xlsx").onclick = () => download("/v1/reports?" + reportParams("xlsx"), "ocop-report.xlsx", "report").catch((e) => say("report", "error", e.message));
$("#audit-form").onsubmit = (ev) => { ev.preventDefault(); audit(); };
["search", "product", "deadlines", "report", "audit"].forEach(watchStale);
const today = todayVN();
$("#d-asof").value = today;
$("#a-to").value = today;
$("#a-from").value = today.slice(0, 4) + "-01-01";
window.addEventListener("hashchange", route);

OCOP.ready = (async () => {
  try { OCOP.labels = await (await fetch("/labels.json")).json(); } catch (e) { OCOP.labels = {}; }
  if (!token()) { signedOut(""); return; }
  try { await signIn(); await route(); } catch (e) { signedOut(e.message); }
})();
