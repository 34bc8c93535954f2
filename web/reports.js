// The periodic reports an official must file, by due date, each a link that
// opens it in the dashboard; the notices of certificates ending in the unit;
// and the report's charts, drawn by the ledger itself (the SVG of
// GET /v1/reports?format=md), so that the page and the md report show the
// same picture. Signed in as on the main page (the token of this browser
// session, or the one remembered on this computer).
'use strict';

const $ = (s) => document.querySelector(s);
const token = () => sessionStorage.getItem('ocop-token') || localStorage.getItem('ocop-token') || '';
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
// Today in Vietnam (UTC+7), whatever the computer's zone.
const todayVN = () => new Intl.DateTimeFormat('en-CA', {timeZone: 'Asia/Ho_Chi_Minh'}).format(new Date());
const vnDate = (iso) => iso.slice(8, 10) + '/' + iso.slice(5, 7) + '/' + iso.slice(0, 4);

async function get(path) {
  let res;
  try {
    res = await fetch(path, {headers: {Authorization: 'Bearer ' + token()}});
  } catch (e) {
    throw new Error('không kết nối được máy chủ (' + e.message + ')');
  }
  if (!res.ok) {
    let message = 'HTTP ' + res.status;
    try {
      message = (await res.json()).error.message;
    } catch (e) { /* not JSON */ }
    if (res.status === 401) message = 'chưa đăng nhập hoặc mã truy cập đã hết hạn: đăng nhập ở trang chính';
    throw new Error(message);
  }
  return res;
}

function say(kind, text) {
  $('#status').className = 'msg ' + kind;
  $('#status').textContent = text;
}

const kinds = {year: 'Báo cáo năm', half: 'Báo cáo 6 tháng', quarter: 'Báo cáo quý', month: 'Báo cáo tháng'};
const notices = {'90_days': 'còn 90 ngày', '30_days': 'còn 30 ngày', '7_days': 'còn 7 ngày', lapsed: 'đã hết hạn'};
let units = {};

async function fillUnits() {
  const data = await (await get('/v1/units')).json();
  units = Object.fromEntries(data.rows.map((u) => [u.unit, u.name]));
  const order = {national: 0, province: 1, district: 2, commune: 3};
  // Retired units too: their past reports are still asked for.
  const rows = data.rows.sort((a, b) => (order[a.level] - order[b.level]) || a.name.localeCompare(b.name, 'vi'));
  $('#unit').innerHTML = '<option value="">Toàn bộ sổ cái</option>' +
      rows.map((u) => `<option value="${esc(u.unit)}">${esc(u.name)}${u.retired ? ' (đã sáp nhập)' : ''}</option>`).join('');
}

// Each show() supersedes the ones before it: a late answer to an earlier
// choice is dropped, never drawn under the new one.
let shown = 0;

async function show() {
  const n = ++shown;
  const live = () => n === shown;
  const unit = $('#unit').value;
  const day = $('#day').value || todayVN();
  const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
  say('loading', 'Đang tải…');
  // Nothing of an earlier choice stays under the new one while it loads.
  for (const id of ['#due', '#notices', '#charts']) $(id).innerHTML = '';
  try {
    // The reports due, soonest first; monthly ones only within the month.
    const due = await (await get('/v1/reports-due?' + q({from: day, within_days: 60}))).json();
    if (!live()) return;
    const offered = due.reports.filter((r) => r.kind !== 'month' || r.days_left <= 31);
    $('#due').innerHTML = offered.map((r) =>
      `<li data-due="${esc(r.due)}"${r.days_left <= 7 ? ' class="late"' : ''}>` +
      `<a href="/#/report?${esc(q({period: r.period, calendar: 'reporting', unit}))}">${esc(kinds[r.kind] || r.kind)} ${esc(r.period)}</a>` +
      ` (${vnDate(r.from)} – ${vnDate(r.to)}): hạn nộp <b>${vnDate(r.due)}</b>, còn ${r.days_left} ngày</li>`).join('') ||
      '<li>Không có báo cáo nào đến hạn trong 60 ngày tới.</li>';
    const since = new Date(Date.parse(day) - 30 * 86400000).toISOString().slice(0, 10);
    const list = await (await get('/v1/notices?' + q({as_of: day, since, unit}))).json();
    if (!live()) return;
    $('#notices').innerHTML = list.notices.map((x) =>
      `<li${x.notice === 'lapsed' ? ' class="late"' : ''}>${vnDate(x.due)}: <a href="/#/product/${encodeURIComponent(x.product)}">${esc(x.name)}</a>` +
      ` (${esc(x.product)}, ${x.stars} sao) của ${esc(x.producer_name || x.producer)}, ${esc(x.unit_name)} — ${esc(notices[x.notice] || x.notice)}` +
      ` (giấy chứng nhận ${esc(x.certificate)} hiệu lực đến ${vnDate(x.valid_until)})</li>`).join('') ||
      '<li>Không có thông báo.</li>';
    const year = day.slice(0, 4);
    const md = await (await get('/v1/reports?' + q({period: year, unit, format: 'md'}))).text();
    if (!live()) return;
    $('#charts-title').textContent = 'Biểu đồ năm ' + year + ' — ' + (unit ? units[unit] || unit : 'toàn bộ sổ cái');
    // Each chart with its own title (the SVG's), scrolled sideways on a
    // narrow screen rather than shrunk below a readable size.
    const svgs = md.match(/<svg[\s\S]*?<\/svg>/g) || [];
    $('#charts').innerHTML = svgs.map((svg) => {
      const title = (svg.match(/aria-label="([^"]*)"/) || [])[1] || '';
      return `<figure class="chart-box"><figcaption>${title}</figcaption><div class="scroll">${svg}</div></figure>`;
    }).join('') || '<p>Không có số liệu để vẽ biểu đồ.</p>';
    say('ok', `${offered.length} báo cáo đến hạn, ${list.notices.length} thông báo, ${svgs.length} biểu đồ (tính đến ${vnDate(day)}).`);
  } catch (e) {
    if (live()) say('error', 'Không tải được: ' + e.message);
  }
}

$('#pick').onsubmit = (e) => {
  e.preventDefault();
  show();
};
$('#day').value = todayVN();
fillUnits().catch(() => {}).finally(show);
