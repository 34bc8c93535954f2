// The periodic reports an official must file, by due date; the notices of
// certificates ending in the unit; and the report's charts, drawn by the
// ledger itself (the SVG of GET /v1/reports?format=md), so that the page and
// the md report show the same picture.
'use strict';

const $ = (s) => document.querySelector(s);
const token = () => localStorage.getItem('ocop-token') || '';

async function get(path) {
  const res = await fetch(path, {headers: {Authorization: 'Bearer ' + token()}});
  if (!res.ok) {
    let message = res.status + '';
    try {
      message = (await res.json()).error.message;
    } catch (e) { /* not JSON */
    }
    throw new Error(message);
  }
  return res;
}

function item(text, late) {
  const li = document.createElement('li');
  li.textContent = text;
  if (late) li.className = 'late';
  return li;
}

function vnDate(iso) {
  return iso.slice(8, 10) + '/' + iso.slice(5, 7) + '/' + iso.slice(0, 4);
}

const kinds = {
  year: 'Báo cáo năm',
  half: 'Báo cáo 6 tháng',
  quarter: 'Báo cáo quý',
  month: 'Báo cáo tháng'
};
const notices = {
  '90_days': 'còn 90 ngày',
  '30_days': 'còn 30 ngày',
  '7_days': 'còn 7 ngày',
  lapsed: 'đã hết hạn'
};

async function show() {
  const unit = $('#unit').value.trim();
  const day = $('#day').value || new Date().toISOString().slice(0, 10);
  const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
  $('#status').textContent = 'Đang tải…';
  try {
    const due = await (await get('/v1/reports-due?' + q({from: day, within_days: 60}))).json();
    $('#due').replaceChildren(
        ...due.reports.filter((r) => r.kind !== 'month' || r.days_left <= 31)
            .map(
                (r) => item(
                    kinds[r.kind] + ' ' + r.period + ' (' + vnDate(r.from) + ' – ' + vnDate(r.to) +
                        '): hạn nộp ' + vnDate(r.due) + ', còn ' + r.days_left + ' ngày',
                    r.days_left <= 7)));
    const since = new Date(Date.parse(day) - 30 * 86400000).toISOString().slice(0, 10);
    const n = await (await get('/v1/notices?' + q({as_of: day, since, unit}))).json();
    $('#notices')
        .replaceChildren(
            ...(n.notices.length ?
                    n.notices.map(
                        (x) => item(
                            vnDate(x.due) + ': ' + x.name + ' (' + x.product + ', ' + x.stars +
                                ' sao) của ' + (x.producer_name || x.producer) + ', ' +
                                x.unit_name + ' — ' + notices[x.notice] + ' (giấy chứng nhận ' +
                                x.certificate + ' hiệu lực đến ' + vnDate(x.valid_until) + ')',
                            x.notice === 'lapsed')) :
                    [item('Không có thông báo.')]));
    const year = day.slice(0, 4);
    const md = await (await get('/v1/reports?' + q({period: year, unit, format: 'md'}))).text();
    $('#charts-title').textContent = 'Biểu đồ năm ' + year + (unit ? ' — ' + unit : '');
    const svgs = md.match(/<svg[\s\S]*?<\/svg>/g) || [];
    const titles = md.match(/^### .*$/gm) || [];
    $('#charts').innerHTML =
        svgs.map(
                (svg, i) =>
                    '<h3>' + (titles[i] || '').slice(4).replace(/</g, '&lt;') + '</h3>' + svg)
            .join('');
    $('#status').textContent = '';
  } catch (e) {
    $('#status').textContent =
        'Lỗi: ' + e.message + (token() ? '' : ' (chưa có mã truy cập: nhập ở trang chính)');
  }
}

$('#pick').onsubmit = (e) => {
  e.preventDefault();
  show();
};
show();
